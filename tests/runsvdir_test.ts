import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import {
  alive,
  bin,
  debianTest,
  exists,
  guard,
  type Guarded,
  hasSysAdmin,
  pidOf,
  readText,
  Sandbox,
  testUnless,
  waitRunning,
  waitUntil,
  within,
} from "./helpers.ts";
import { childrenOf, readProc, sessionOf } from "./proc.ts";

async function runsvdir(
  sb: Sandbox,
  args: string[],
  env: Record<string, string> = {},
): Promise<Guarded> {
  return guard(sb.start(`${await bin()}/runsvdir`, args, { env }));
}

/** A service directory prepared outside `svdir`, to be moved in whole. */
async function staged(sb: Sandbox, name: string, run: string): Promise<string> {
  return await sb.service(`stage/${name}`, { run });
}

Deno.test("runsvdir: add, remove, rename, symlinks, dot-directories, TERM", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  const a = await sb.service("service/a", { run: "exec sleep 100" });
  await sb.service("service/.hidden", { run: "exec sleep 100" });
  const external = await sb.service("external", { run: "exec sleep 100" });
  await Deno.writeTextFile(`${svdir}/plainfile`, "");
  await Deno.symlink("a", `${svdir}/a-again`);
  await Deno.symlink(external, `${svdir}/ext`);
  await Deno.symlink(`${sb.dir}/nowhere`, `${svdir}/dangling`);
  await using daemon = await runsvdir(sb, [svdir]);
  const aPid = await waitRunning(a);
  const extPid = await waitRunning(external);
  // a and a-again are one directory: one ./run; .hidden is ignored.
  const two = await waitUntil(async () => {
    const children = await childrenOf(daemon.pid);
    return children.length === 2 ? children : undefined;
  }, { what: "two services" });
  assertEquals(two!.map((c) => c.pid).sort(), [aPid, extPid].sort());
  assertEquals(readText(`${svdir}/.hidden/supervise/stat`), "");

  // A new service moved in starts at once.
  // (How soon: bench/runsvdir.ts measures it against runit's.)
  const b = await staged(sb, "b", "exec sleep 100");
  await Deno.rename(b, `${svdir}/b`);
  const bPid = await waitRunning(`${svdir}/b`);

  // A rename restarts nothing; the next change proves it was seen.
  await Deno.rename(`${svdir}/a`, `${svdir}/a2`);
  await Deno.remove(`${svdir}/a-again`);
  await Deno.rename(await staged(sb, "c", "exec sleep 100"), `${svdir}/c`);
  await waitRunning(`${svdir}/c`);
  assertEquals(pidOf(`${svdir}/a2`), aPid);
  assertOk(alive(aPid), "a2 kept its process");
  // Without -P a service stays in runsvdir's session.
  assertEquals(sessionOf(aPid), sessionOf(daemon.pid));

  // Removed entries are taken down as by `x`.
  await Deno.rename(`${svdir}/b`, `${sb.dir}/b-gone`);
  await Deno.remove(`${svdir}/ext`);
  await waitUntil(() => !alive(bPid) && !alive(extPid), { what: "removed services down" });
  assertEquals(readText(`${sb.dir}/b-gone/supervise/stat`), "down\n");

  // `sv x` ends one supervisor; runsvdir starts it again.
  const x = await sb.run(`${await bin()}/sv`, ["x", `${svdir}/a2`]);
  assertEquals(x.code, 0);
  await waitRunning(`${svdir}/a2`, { not: aPid });

  // TERM: every service down, exit 0.
  const running = (await childrenOf(daemon.pid)).map((c) => c.pid);
  assertEquals(running.length, 2);
  Deno.kill(daemon.pid, "SIGTERM");
  const done = await within(daemon.done, { what: "runsvdir to exit" });
  assertEquals(done.code, 0, done.stderr);
  for (const pid of running) assertOk(!alive(pid), `pid ${pid} is down`);
  assertMatch(
    done.stderr,
    new RegExp(`^runsvdir ${svdir}: warning: unable to stat dangling: file does not exist$`, "m"),
  );
  // Reported once, not on every rescan.
  assertEquals(done.stderr.split("unable to stat dangling").length, 2);
});

debianTest("runsvdir: 200 services, all `run:` in our sv and Debian's", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  const dirs: string[] = [];
  for (let i = 0; i < 200; i++) {
    dirs.push(
      await sb.service(`service/s${String(i).padStart(3, "0")}`, { run: "exec sleep 100" }),
    );
  }
  await using daemon = await runsvdir(sb, [svdir]);
  for (const sv of [`${await bin()}/sv`, "/usr/bin/sv"]) {
    await waitUntil(async () => {
      const status = await sb.run(sv, ["status", ...dirs]);
      const lines = status.stdout.trim().split("\n");
      return status.code === 0 && lines.length === 200 &&
        lines.every((line) => /^run: \S+: \(pid \d+\) \d+s$/.test(line));
    }, { what: `${sv} status: 200 × run`, timeout: 20_000, interval: 200 });
  }
  const pids = dirs.map(pidOf);
  assertEquals(new Set(pids).size, 200);
  Deno.kill(daemon.pid, "SIGTERM");
  assertEquals((await within(daemon.done, { what: "runsvdir to exit" })).code, 0);
  assertOk(pids.every((pid) => !alive(pid)), "every service is down after TERM");
});

debianTest("runsvdir: broken service directories do not disturb the others", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  const good = await sb.service("service/good", { run: "exec sleep 100" });
  const logfile = await sb.service("service/logfile", { run: "exec sleep 100" });
  await Deno.writeTextFile(`${logfile}/log`, "");
  await Deno.mkdir(`${svdir}/norun`);
  const noexec = await sb.service("service/noexec", { run: "exec sleep 100" });
  await Deno.chmod(`${noexec}/run`, 0o644);
  const supfile = await sb.service("service/supfile", { run: "exec sleep 100" });
  await Deno.writeTextFile(`${supfile}/supervise`, "");
  const ctlfile = await sb.service("service/ctlfile", { run: "exec sleep 100" });
  await Deno.mkdir(`${ctlfile}/supervise`);
  await Deno.writeTextFile(`${ctlfile}/supervise/control`, "");
  const locked = await sb.service("service/locked", { run: "exec sleep 100" });
  await using debian = guard(sb.start("/usr/bin/runsv", [locked]));
  await waitRunning(locked);
  await using daemon = await runsvdir(sb, [svdir]);
  await waitRunning(good);
  await waitRunning(logfile);
  // Repaired directories are picked up: norun gets a run, supfile's file goes.
  await sb.script(`${svdir}/norun/run`, "exec sleep 100");
  await Deno.remove(`${supfile}/supervise`);
  await waitRunning(`${svdir}/norun`);
  await waitRunning(supfile);
  // Debian's runsv holds the lock; once it is gone ours takes over.
  const before = pidOf(locked);
  Deno.kill(debian.pid, "SIGTERM");
  await within(debian.done, { what: "Debian's runsv to exit" });
  await waitRunning(locked, { not: before });
  Deno.kill(daemon.pid, "SIGTERM");
  const { code, stderr } = await within(daemon.done, { what: "runsvdir to exit" });
  assertEquals(code, 0, stderr);
  const expected = [
    "runsv logfile: warning: ./log: not a directory.",
    "runsv norun: warning: unable to start ./run: file does not exist",
    "runsv noexec: warning: unable to start ./run: access denied",
    "runsv ctlfile: fatal: supervise/control exists but is not a fifo",
    "runsv locked: fatal: unable to lock supervise/lock: temporary failure",
  ];
  for (const line of expected) assertOk(stderr.includes(`${line}\n`), `stderr has ${line}`);
  assertMatch(stderr, /^runsv supfile: fatal: unable to open supervise\/lock: /m);
  // A failing supervisor is retried each second but reported once.
  assertEquals(stderr.split("exists but is not a fifo").length, 2);
  assertEquals(readText(`${ctlfile}/supervise/control`), "");
});

Deno.test("runsvdir: HUP takes every service down and exits 111", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  const a = await sb.service("service/a", { run: "exec sleep 100", log: "exec cat >/dev/null" });
  await using daemon = await runsvdir(sb, [svdir]);
  const pid = await waitRunning(a);
  const logPid = await waitRunning(`${a}/log`);
  Deno.kill(daemon.pid, "SIGHUP");
  const { code } = await within(daemon.done, { what: "runsvdir to exit" });
  assertEquals(code, 111);
  assertOk(!alive(pid) && !alive(logPid), "service and log are down");
});

Deno.test("runsvdir: TERM honours control/t, KILLs after the timeout, exit 1", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  // Ignores TERM; its control/t stops it with INT instead.
  const custom = await sb.service("service/custom", {
    run: "trap 'exit 0' INT\ntrap '' TERM\nwhile :; do sleep 0.05; done",
    log: "exec cat > out",
  });
  await sb.script(`${custom}/control/t`, 'echo "t $1" > tcalled\nkill -INT "$1"');
  // Ignores TERM, and has no control/t: needs KILL.
  const stubborn = await sb.service("service/stubborn", { run: "trap '' TERM\nexec sleep 100" });
  await using daemon = await runsvdir(sb, [svdir], { RUNSVDIR_TIMEOUT: "1" });
  const customPid = await waitRunning(custom);
  const logPid = await waitRunning(`${custom}/log`);
  const stubbornPid = await waitRunning(stubborn);
  const sent = performance.now();
  Deno.kill(daemon.pid, "SIGTERM");
  const { code, stderr } = await within(daemon.done, { what: "runsvdir to exit" });
  const took = performance.now() - sent;
  assertEquals(code, 1, stderr);
  // KILL comes only after the timeout (how soon after: bench/timing.ts).
  assertOk(took >= 900, `KILL after ${took.toFixed(0)} ms, before the 1 s timeout`);
  assertEquals(readText(`${custom}/tcalled`), `t ${customPid}\n`);
  for (const pid of [customPid, logPid, stubbornPid]) assertOk(!alive(pid), `${pid} down`);
});

Deno.test("runsvdir: the log argument shows the latest errors in ps", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  await sb.service("service/noisy", { run: "echo boom-4711 >&2\nexec sleep 100" });
  const dots = ".".repeat(60);
  await using daemon = await runsvdir(sb, [svdir, `log: ${dots}`]);
  const args = await waitUntil(async () => {
    const ps = await sb.run("ps", ["-o", "args=", "-p", String(daemon.pid)]);
    return ps.stdout.includes("boom-4711") ? ps.stdout : "";
  }, { what: "ps to show the error" });
  // The first five characters stay; the newest text is right-aligned.
  assertMatch(args, /log: \.+boom-4711 \n$/);
  Deno.kill(daemon.pid, "SIGTERM");
  const { code, stderr } = await within(daemon.done, { what: "runsvdir to exit" });
  assertEquals(code, 0);
  // The same text also reaches stderr.
  assertOk(stderr.includes("boom-4711\n"), stderr);

  // Too short: runit's two warnings, and it runs on.
  await using short = await runsvdir(sb, [svdir, "log"]);
  await waitUntil(async () => (await childrenOf(short.pid)).length === 1, {
    what: "noisy to run",
  });
  // INT is a graceful stop too.
  Deno.kill(short.pid, "SIGINT");
  const shortDone = await within(short.done, { what: "runsvdir to exit" });
  assertEquals(shortDone.code, 0);
  assertOk(
    shortDone.stderr.startsWith(
      `runsvdir ${svdir}: warning: log must have at least seven characters.\n` +
        `runsvdir ${svdir}: warning: log service disabled.\n`,
    ),
    shortDone.stderr,
  );
});

Deno.test("runsvdir: usage as runit's", async () => {
  await using sb = await Sandbox.create();
  const program = `${await bin()}/runsvdir`;
  const ours = await sb.run(program, []);
  assertEquals([ours.code, ours.stderr], [1, `usage: ${program} [-P] dir\n\n`]);
});

debianTest("runsvdir: usage as Debian's runsvdir", async () => {
  await using sb = await Sandbox.create();
  const program = `${await bin()}/runsvdir`;
  const ours = await sb.run(program, []);
  const theirs = await sb.run("/usr/bin/runsvdir", []);
  assertEquals(theirs.code, 1);
  assertEquals(theirs.stderr.replace("/usr/bin/runsvdir", program), ours.stderr);
});

testUnless("runsvdir: as PID 1 in a PID namespace reaps orphans and stops on TERM", () => {
  if (!hasSysAdmin()) return "unshare --pid needs root with CAP_SYS_ADMIN";
  if (!exists("/usr/bin/unshare")) return "unshare (util-linux) is not installed";
  return undefined;
}, async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  // Each round leaves an orphan that the namespace's PID 1 must reap.
  await sb.service("service/forker", {
    run: "while :; do sh -c 'sleep 0.1 & exit 0'; sleep 0.05; done",
    log: "exec cat >/dev/null",
  });
  await sb.service("service/steady", { run: "exec sleep 100" });
  let init = 0;
  // unshare ignores TERM while it waits; with --kill-child, PID 1 dies with it.
  await using unshare = guard(
    sb.start(
      "unshare",
      ["--pid", "--fork", "--mount-proc", "--kill-child", `${await bin()}/runsvdir`, "-P", svdir],
      { env: { RUNSVDIR_TIMEOUT: "2" } },
    ),
    { term: () => init },
  );
  init = await waitUntil(async () => {
    const child = (await childrenOf(unshare.pid))[0];
    const status = child ? readProc(`/proc/${child.pid}/status`) : "";
    return /^NSpid:\s+\d+\s+1$/m.test(status) ? child.pid : 0;
  }, { what: "runsvdir as PID 1" });
  // supervise/pid holds pids as seen inside the namespace.
  const inner = [
    await waitRunning(`${svdir}/steady`, { namespaced: true }),
    await waitRunning(`${svdir}/forker`, { namespaced: true }),
    await waitRunning(`${svdir}/forker/log`, { namespaced: true }),
  ];
  const services = (await childrenOf(init)).map((c) => c.pid).filter((pid) => {
    const nspid = /^NSpid:.*\s(\d+)$/m.exec(readProc(`/proc/${pid}/status`));
    return nspid && inner.includes(Number(nspid[1]));
  });
  assertEquals(services.length, 3);
  // -P: each service is in a session of its own that it does not lead (field 6 of stat).
  for (const pid of services) {
    assertOk(sessionOf(pid) !== sessionOf(init) && sessionOf(pid) !== pid, `session of ${pid}`);
  }
  const orphans = new Set<number>();
  let maxZombies = 0;
  await waitUntil(async () => {
    const children = await childrenOf(init);
    for (const child of children) {
      if (!services.includes(child.pid) && child.name === "sleep") orphans.add(child.pid);
    }
    maxZombies = Math.max(maxZombies, children.filter((c) => c.state === "Z").length);
    return orphans.size >= 15;
  }, { what: "orphans re-parented to PID 1", timeout: 15_000, interval: 10 });
  // Without reaping, every orphan would stay a zombie.
  assertOk(maxZombies <= 3, `zombies accumulated: ${maxZombies}`);
  Deno.kill(init, "SIGTERM");
  const { code, stderr } = await within(unshare.done, { what: "the namespace to end" });
  assertEquals(code, 0, stderr);
  assertOk(services.every((pid) => !alive(pid)), "every service is down");
});
