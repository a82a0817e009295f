/**
 * Fault injection: what one service (or the world around runsvdir) does must
 * not stop the supervision of the others. Each test is a row of issue 10's
 * fault table, run against the installed runsvdir as a user would.
 *
 * @module
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import {
  alive,
  bin,
  guard,
  type Guarded,
  hasDebianRunit,
  hasSysAdmin,
  pidOf,
  processesUnder,
  readText,
  Sandbox,
  testUnless,
  waitRunning,
  waitUntil,
  withTree,
} from "./helpers.ts";
import { coalesceCommands } from "../src/supervise/supervisor.ts";
import { BoundedWriter, Children, Reactor } from "../src/reactor/mod.ts";
import {
  AT_FDCWD,
  chmodAt,
  closeFd,
  decodeName,
  encodeName,
  makeDirAt,
  makePipe,
  O,
  openAt,
  readFd,
  readFileAt,
  readLinkAt,
  replaceFd,
  replaceFileAt,
  writeFd,
} from "../src/sys/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Fill the pipe or FIFO behind the non-blocking `fd` until a write would block. */
function fill(fd: number): void {
  const block = new Uint8Array(4096).fill(0x2e);
  while (writeFd(fd, block) > 0) {
    // Until EAGAIN.
  }
}

/** Everything readable now from the non-blocking `fd`. */
function drain(fd: number): string {
  const buffer = new Uint8Array(65536);
  let text = "";
  for (;;) {
    const n = readFd(fd, buffer);
    if (n <= 0) return text;
    text += decoder.decode(buffer.subarray(0, n));
  }
}

/** Resident set size of `pid` in KiB (0 when gone). */
function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readText(`/proc/${pid}/status`));
  return match ? Number(match[1]) : 0;
}

/** A service tree of `count` sleeping services `s0`, `s1`, … under `sb.dir/sv`. */
async function sleepers(sb: Sandbox, count: number): Promise<string[]> {
  const dirs: string[] = [];
  for (let i = 0; i < count; i++) {
    dirs.push(await sb.service(`sv/s${i}`, { run: "exec sleep 1000" }));
  }
  return dirs;
}

Deno.test("coalesceCommands: order kept, repeats and non-commands dropped", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  assertEquals(coalesceCommands(bytes("uu\nzz\xffduud")), ["u", "d", "u", "d"]);
  assertEquals(coalesceCommands(bytes("du")), ["d", "u"]);
  assertEquals(coalesceCommands(bytes("ud")), ["u", "d"]);
  assertEquals(coalesceCommands(bytes("hhh-h1t t")), ["h", "1", "t"]);
  assertEquals(coalesceCommands(bytes("zzz 7 bbb\n")), []);
});

Deno.test("faults: 16 MiB into one control FIFO leaves memory flat and every service as it was", async () => {
  await using sb = await Sandbox.create();
  const dirs = await sleepers(sb, 3);
  await using daemon = guard(sb.start(`${await bin()}/runsvdir`, [`${sb.dir}/sv`]));
  const pids = await Promise.all(dirs.map((dir) => waitRunning(dir)));
  const base = rssKiB(daemon.pid);
  assertOk(base > 0, "runsvdir's RSS");
  // Mixed bytes: mostly junk (high bytes, letters that are no command), one
  // in 512 a `u` or `c`, which leave a running service as it is.
  const chunk = new Uint8Array(64 * 1024);
  let seed = 42;
  const junk = new TextEncoder().encode("bfgjlmnrsvwyzBDUX \n\xff0789");
  for (let i = 0; i < chunk.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    chunk[i] = i % 512 === 0 ? (seed & 1 ? 0x75 : 0x63) : junk[seed % junk.length];
  }
  const limitKiB = base + 100 * 1024;
  let peak = base;
  const fifo = await Deno.open(`${dirs[0]}/supervise/control`, { write: true });
  try {
    for (let written = 0; written < 16 * 1024 * 1024; written += chunk.length) {
      let off = 0;
      while (off < chunk.length) off += await fifo.write(chunk.subarray(off));
      peak = Math.max(peak, rssKiB(daemon.pid));
      assertOk(peak < limitKiB, `runsvdir RSS ${peak} KiB (started at ${base} KiB)`);
    }
  } finally {
    fifo.close();
  }
  assertOk(alive(daemon.pid), "runsvdir is alive");
  dirs.forEach((dir, i) => assertEquals(pidOf(dir), pids[i], `${dir} kept its pid`));
  const sv = `${await bin()}/sv`;
  const restart = await sb.run(sv, ["-w", "10", "restart", dirs[0]]);
  assertEquals(restart.code, 0, restart.stdout + restart.stderr);
  const restarted = await waitRunning(dirs[0], { not: pids[0] });
  assertOk(restarted !== pids[0]);
  const status = await sb.run(sv, ["status", ...dirs.slice(1)]);
  assertEquals(status.code, 0);
  dirs.slice(1).forEach((dir, i) => assertEquals(pidOf(dir), pids[i + 1], `${dir} kept its pid`));
  assertOk(rssKiB(daemon.pid) < limitKiB);
  console.log(`runsvdir RSS: ${base} KiB at start, peak ${peak} KiB during 16 MiB`);
});

Deno.test("BoundedWriter: a full pipe keeps a bounded backlog, counts drops, reports once drained", async () => {
  const reactor = new Reactor();
  const running = reactor.run();
  const [readEnd, writeEnd] = makePipe({ nonblocking: true });
  try {
    fill(writeEnd);
    const out = new BoundedWriter(writeEnd, {
      reactor,
      limit: 100,
      dropped: (lines) => `test: warning: ${lines} lines dropped\n`,
    });
    const started = performance.now();
    for (let i = 0; i < 50; i++) out.write(encoder.encode(`line ${String(i).padStart(2, "0")}\n`));
    assertOk(performance.now() - started < 1000, "writes did not block");
    assertEquals(out.pending, 96); // 12 lines of 8 bytes fit in 100
    assertEquals(out.dropped, 38);
    let text = "";
    await waitUntil(() => {
      text += drain(readEnd).replace(/^\.+/, "");
      return text.includes("dropped");
    }, { what: "the backlog and the notice" });
    const lines = text.split("\n").filter((line) => line !== "");
    assertEquals(
      lines.slice(0, 12),
      Array.from({ length: 12 }, (_, i) => `line ${String(i).padStart(2, "0")}`),
    );
    assertEquals(lines[12], "test: warning: 38 lines dropped");
    assertEquals(out.pending, 0);
    // Drained: writes go straight through again.
    out.write(encoder.encode("after\n"));
    assertEquals(drain(readEnd), "after\n");
    out.close();
  } finally {
    reactor.stop();
    await running;
    reactor.close();
    closeFd(readEnd);
    closeFd(writeEnd);
  }
});

Deno.test("faults: runsvdir's stderr full (reader stopped): supervision goes on", async () => {
  await using sb = await Sandbox.create();
  const [good] = await sleepers(sb, 1);
  // Services that cannot start: a warning each per second, into the full pipe.
  for (let i = 0; i < 5; i++) await Deno.mkdir(`${sb.dir}/sv/noisy${i}`, { recursive: true });
  const fifo = `${sb.dir}/stderr`;
  const made = await sb.run("mkfifo", [fifo]);
  assertEquals(made.code, 0);
  // Held open for reading and writing: writers never see EPIPE, and nobody reads.
  const held = openAt(AT_FDCWD, fifo, { flags: O.RDWR | O.NONBLOCK | O.CLOEXEC });
  try {
    fill(held);
    const runsvdir = `${await bin()}/runsvdir`;
    await using daemon = guard(
      sb.start("sh", ["-c", 'exec "$0" "$1" 2>"$2"', runsvdir, `${sb.dir}/sv`, fifo]),
    );
    const first = await waitRunning(good);
    await waitUntil(() => readText(`${sb.dir}/sv/noisy0/supervise/stat`).startsWith("down"), {
      what: "noisy0 to be supervised",
    });
    // A fixed time is the fault under test, not a wait: for 1.5 s (a retry
    // of every failed start, once a second) warnings pile up against the
    // full pipe, which nothing outside the supervisors can observe.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    Deno.kill(first, "SIGKILL");
    const second = await waitRunning(good, { not: first, timeout: 5000 });
    const restart = await sb.run(`${await bin()}/sv`, ["-w", "5", "restart", good]);
    assertEquals(restart.code, 0, restart.stdout + restart.stderr);
    await waitRunning(good, { not: second });
    assertOk(alive(daemon.pid));
    // Once read again, the warnings kept back come out.
    let text = "";
    await waitUntil(() => {
      text += drain(held);
      return /noisy\d: warning: unable to start \.\/run/.test(text);
    }, { what: "the kept warnings" });
    assertMatch(text, /^runsv noisy\d: warning: unable to start \.\/run: file does not exist$/m);
  } finally {
    closeFd(held);
  }
});

/** Run `runsv` (ours or Debian's) on `dir`, its stderr into `log`. */
function runsvInto(sb: Sandbox, runsv: string, dir: string, log: string): Guarded {
  return guard(sb.start("sh", ["-c", 'exec "$0" "$1" 2>"$2"', runsv, dir, log]));
}

/** Fill the file system of `dir` with `dir/filler`. */
async function fillUp(sb: Sandbox, dir: string): Promise<void> {
  // dd fails when the file system is full: that is the point.
  await sb.run("dd", ["if=/dev/zero", `of=${dir}/filler`, "bs=4096"]);
}

testUnless(
  "faults: full file system under supervise/: named like runsv's, retried until written",
  hasSysAdmin() ? undefined : "mounting a tmpfs needs root with CAP_SYS_ADMIN",
  async () => {
    await using sb = await Sandbox.create();
    const dir = await sb.service("web", { run: "exec sleep 1000" });
    const supervise = `${dir}/supervise`;
    await Deno.mkdir(supervise);
    const mounted = await sb.run("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", supervise]);
    assertEquals(mounted.code, 0, `mount: ${mounted.stderr}`);
    try {
      const log = `${sb.dir}/stderr`;
      await using _runsv = runsvInto(sb, `${await bin()}/runsv`, dir, log);
      // runsv works in `dir` too: the service is the sleep there.
      const service = (pid: number) => readText(`/proc/${pid}/cmdline`).startsWith("sleep\0");
      const first = await waitRunning(dir);
      await fillUp(sb, supervise);
      Deno.kill(first, "SIGKILL");
      // The warning names the file as runsv's does. (Debian's runsv says
      // nothing here: it ignores failed writes of pid and stat, which leaves
      // them empty, and that frees the page that status needs.)
      const text = await waitUntil(() => {
        const text = readText(log);
        return text.includes("status.new") ? text : "";
      }, { what: "the warning" });
      assertEquals(
        text,
        `runsv ${dir}: warning: unable to write supervise/status.new: out of disk space\n`,
      );
      // Keep it full: the down state's empty pid file freed a page (as Debian's runsv's
      // does), which the restart after runsv's one-second pause would otherwise find.
      await fillUp(sb, supervise);
      // Stale while the disk is full, and `sv restart` waits for it...
      const running = await waitUntil(
        () => processesUnder(dir).find((pid) => service(pid) && pid !== first) ?? 0,
        { what: "the service to be started again" },
      );
      const status = Deno.readFileSync(`${supervise}/status`);
      assertOk(new DataView(status.buffer).getUint32(12, true) !== running, "status is stale");
      const restart = sb.run(`${await bin()}/sv`, ["-w", "10", "restart", dir]);
      // sv has sent its command once the service is TERMed; it then waits on the stale status.
      // (Room must come back before runsv's one-second pause lets the next one start.)
      await waitUntil(() => !alive(running), { what: "sv restart to stop the service" });
      // ...until room comes back: then the retry writes the state that is true now.
      await Deno.remove(`${supervise}/filler`);
      const { code, stdout } = await restart;
      assertEquals(code, 0, stdout);
      assertMatch(stdout, /^ok: run: /);
      assertOk(alive(await waitRunning(dir, { not: first, timeout: 2000 })));
      // Reported once, not at every retry.
      assertEquals(readText(log).split("\n").filter((line) => line).length, 1, readText(log));
    } finally {
      await sb.run("umount", ["-l", supervise]);
    }
  },
);

Deno.test("faults: soft `ulimit -Sn 64` reaches services (with and without -P) and chpst's program", async () => {
  await using sb = await Sandbox.create();
  const bins = await bin();
  const peers: Array<[string, string]> = [["ours", `${bins}/runsvdir`]];
  if (hasDebianRunit()) peers.push(["runit", "/usr/bin/runsvdir"]);
  const seen: Record<string, string> = {};
  for (const [peer, runsvdir] of peers) {
    for (const flags of [[], ["-P"]]) {
      const name = `${peer}${flags.join("")}`;
      const svdir = `${sb.dir}/${name}`;
      await sb.service(`${name}/probe`, {
        run: `echo "$(ulimit -Sn) $(ulimit -Hn)" >../../${name}.limit; exec sleep 1000`,
      });
      await using _daemon = guard(
        sb.start("bash", ["-c", 'ulimit -Sn 64; exec "$@"', "bash", runsvdir, ...flags, svdir]),
      );
      seen[name] = await waitUntil(() => readText(`${sb.dir}/${name}.limit`).trim(), {
        what: `${name}'s service to report its limit`,
      });
    }
  }
  const hard = (await sb.run("bash", ["-c", "ulimit -Hn"])).stdout.trim();
  for (const [name, limit] of Object.entries(seen)) assertEquals(limit, `64 ${hard}`, name);
  for (
    const [chpst, args, want] of [
      [`${bins}/chpst`, [], "64"],
      [`${bins}/chpst`, ["-o", "100"], "100"],
      [`${bins}/softlimit`, ["-o", "100"], "100"],
      [`${bins}/envdir`, [await Deno.makeTempDir({ dir: sb.dir })], "64"],
    ] as Array<[string, string[], string]>
  ) {
    const { stdout } = await sb.run("bash", [
      "-c",
      'ulimit -Sn 64; exec "$@"',
      "bash",
      chpst,
      ...args,
      "sh",
      "-c",
      "ulimit -Sn",
    ]);
    assertEquals(stdout.trim(), want, `${chpst} ${args.join(" ")}`);
  }
});

Deno.test("faults: hard `ulimit -n 64`, 50 services: reported once, what runs keeps running, recovers", async () => {
  await using sb = await Sandbox.create();
  const dirs = await sleepers(sb, 50);
  const log = `${sb.dir}/stderr`;
  const runsvdir = `${await bin()}/runsvdir`;
  await using daemon = guard(
    sb.start("bash", ["-c", 'ulimit -n 64; exec "$0" "$1" 2>"$2"', runsvdir, `${sb.dir}/sv`, log]),
  );
  const running = () => dirs.filter((dir) => /^run\b/.test(readText(`${dir}/supervise/stat`)));
  const warned = await waitUntil(
    () => /out of descriptors \(limit 64\): (\d+) services wait/.exec(readText(log)),
    { what: "the warning" },
  );
  const waiting = Number(warned![1]);
  // Every supervisor that fitted was started by the scan that warned.
  const first = (await waitUntil(() => {
    const now = running();
    return now.length === 50 - waiting ? now : undefined;
  }, { what: `${50 - waiting} services to run` }))!;
  assertOk(first.length >= 3, `${first.length} services run`);
  // Those that run keep running, and are supervised: a killed one comes back.
  const victim = pidOf(first[0]);
  Deno.kill(victim, "SIGKILL");
  await waitRunning(first[0], { not: victim, timeout: 5000 });
  const sv = await sb.run(`${await bin()}/sv`, ["status", ...first]);
  assertEquals(sv.code, 0, sv.stdout);
  // Room comes back when services go away: those waiting start by themselves.
  const kept = [first[0], ...dirs.filter((dir) => !first.includes(dir)).slice(0, first.length - 1)];
  for (const dir of dirs) if (!kept.includes(dir)) await Deno.remove(dir, { recursive: true });
  await waitUntil(() => kept.every((dir) => /^run\b/.test(readText(`${dir}/supervise/stat`))), {
    what: `${kept.length} services to run`,
    timeout: 15_000,
  });
  assertOk(alive(daemon.pid));
  await waitUntil(() => readText(log).includes("free again"), { what: "the recovery line" });
  // (Removing directories under running supervisors has runit's warnings too.)
  const text = readText(log);
  assertEquals(text.split("\n").filter((line) => line.includes("descriptors")), [
    `runsvdir ${sb.dir}/sv: warning: out of descriptors (limit 64): ${waiting} services wait, retrying`,
    `runsvdir ${sb.dir}/sv: warning: descriptors free again: all supervised`,
  ]);
  assertOk(!/fatal|open more files/.test(text), text);
  console.log(`under ulimit -n 64: ${first.length} of 50 supervised at once`);
});

Deno.test("decodeName and encodeName: bytes that are not UTF-8 go round", () => {
  const cases = [
    [0x69, 0x6e, 0x76, 0xff, 0xfe, 0x75],
    [0xc3, 0xa9, 0xc3],
    [0xed, 0xa0, 0x80], // an encoded surrogate is not UTF-8
    [0xe2, 0x82, 0xac, 0x80, 0xf0, 0x9f, 0x98, 0x80],
  ];
  for (const bytes of cases) {
    assertEquals([...encodeName(decodeName(new Uint8Array(bytes)))], bytes);
  }
  assertEquals(decodeName(new Uint8Array([0x61, 0xff])), "a\udcff");
  assertEquals(decodeName(encoder.encode("plain é €")), "plain é €");
  assertEquals([...encodeName("a\udcff")], [0x61, 0xff]);
});

Deno.test("faults: a service directory whose name is not UTF-8 is supervised; messages keep its bytes", async () => {
  await using sb = await Sandbox.create();
  const bytes = [0x69, 0x6e, 0x76, 0xff, 0xfe, 0x75, 0x74, 0x66, 0x38]; // "inv\xff\xfeutf8"
  const name = decodeName(new Uint8Array(bytes));
  const peers: Array<[string, string]> = [["ours", `${await bin()}/runsvdir`]];
  if (hasDebianRunit()) peers.push(["runit", "/usr/bin/runsvdir"]);
  const warnings: Record<string, Uint8Array> = {};
  for (const [peer, runsvdir] of peers) {
    const svdir = `${sb.dir}/${peer}`;
    const dir = `${svdir}/${name}`;
    await Deno.mkdir(svdir);
    makeDirAt(AT_FDCWD, dir, 0o755);
    replaceFileAt(AT_FDCWD, `${dir}/run`, encoder.encode("#!/bin/sh\nexec sleep 1000\n"));
    chmodAt(AT_FDCWD, `${dir}/run`, 0o755);
    // A `log` that is no directory: runsv warns, naming the service.
    replaceFileAt(AT_FDCWD, `${dir}/log`, encoder.encode(""));
    const log = `${sb.dir}/${peer}.stderr`;
    await using _daemon = guard(
      sb.start("sh", ["-c", 'exec "$0" "$1" 2>"$2"', runsvdir, svdir, log]),
    );
    const pid = await waitUntil(() => {
      const stat = decoder.decode(readFileAt(AT_FDCWD, `${dir}/supervise/stat`, 64));
      const pid = Number(decoder.decode(readFileAt(AT_FDCWD, `${dir}/supervise/pid`, 64)));
      return stat.startsWith("run") && alive(pid) ? pid : 0;
    }, { what: `${peer}: the service to run` });
    assertEquals(
      readLinkAt(AT_FDCWD, `/proc/${pid}/cwd`),
      new TextDecoder().decode(encodeName(dir)),
    );
    await waitUntil(() => Deno.readFileSync(log).includes(0x0a), { what: `${peer}: the warning` });
    warnings[peer] = Deno.readFileSync(log);
    // Debian's sv reads its status by its name's bytes.
    if (hasDebianRunit()) {
      const sv = await sb.run("bash", [
        "-c",
        '/usr/bin/sv status "$0/$(printf "inv\\377\\376utf8")" | cut -d" " -f1',
        svdir,
      ]);
      assertEquals(sv.stdout, "run:\n", `${peer}: ${sv.stderr}`);
    }
  }
  const want = [
    ...encoder.encode("runsv "),
    ...bytes,
    ...encoder.encode(": warning: ./log: not a directory.\n"),
  ];
  assertEquals([...warnings.ours], want);
  if (warnings.runit) assertEquals([...warnings.runit], want);
});

Deno.test("faults: a child that exits while a burst of exits is handled is reaped at the next spawn", () => {
  const children = new Children();
  try {
    const exits: number[] = [];
    const first = children.start(["/bin/true"], {}, () => exits.push(first));
    // A burst: the event loop (and so the SIGCHLD listener) does not run
    // until it ends. Wait, without yielding, for the child to be a zombie.
    const deadline = Date.now() + 5000;
    while (!readText(`/proc/${first}/stat`).replace(/^.*\) /s, "").startsWith("Z")) {
      if (Date.now() > deadline) throw new Error("the child did not exit");
    }
    // The burst starts the next service: the zombie is collected there and then.
    const second = children.start(["/bin/sleep", "5"], {}, () => exits.push(second));
    assertEquals(exits, [first]);
    assertEquals(readText(`/proc/${first}/stat`), "");
    Deno.kill(second, "SIGKILL");
    const until = Date.now() + 5000;
    while (!exits.includes(second) && Date.now() < until) children.reap();
    assertEquals(exits, [first, second]);
  } finally {
    children.close();
  }
});

/** A reactor that throws (a TypeError, as a bug would) at the next watch after `arm()`. */
class FaultyReactor extends Reactor {
  #armed = false;
  arm(): void {
    this.#armed = true;
  }
  override watch(fd: number, handler: (events: number) => void, events?: number): void {
    if (this.#armed) {
      this.#armed = false;
      throw new TypeError("injected fault");
    }
    super.watch(fd, handler, events);
  }
}

Deno.test("faults: an unexpected exception in one supervisor: reported, that one restarted with a backoff, others untouched", async () => {
  await using sb = await Sandbox.create();
  const [a, b] = await sleepers(sb, 2);
  const reactor = new FaultyReactor();
  await withTree(`${sb.dir}/sv`, async (_tree, reports) => {
    const [pidA, pidB] = await Promise.all([waitRunning(a), waitRunning(b)]);
    // A command to s0: after acting on it, its supervisor watches its FIFO again, and throws.
    reactor.arm();
    const fifo = await Deno.open(`${a}/supervise/control`, { write: true });
    await fifo.write(encoder.encode("c"));
    fifo.close();
    await waitUntil(() => reports.length > 0, { what: "the report" });
    assertEquals(reports, [`runsvdir ${sb.dir}/sv: warning: s0: injected fault`]);
    // Nothing left running unsupervised: s0's service was stopped...
    await waitUntil(() => !alive(pidA), { what: "s0's old service to stop", timeout: 5000 });
    const failedAt = Date.now();
    // ...and after the backoff a new supervisor starts it again.
    const again = await waitRunning(a, { not: pidA, timeout: 5000 });
    assertOk(Date.now() - failedAt >= 500, "restarted after a backoff");
    assertOk(alive(again));
    assertEquals(pidOf(b), pidB);
    assertOk(alive(pidB));
    const status = await sb.run(`${await bin()}/sv`, ["-w", "5", "restart", a]);
    assertEquals(status.code, 0, status.stdout);
  }, { reactor });
});

Deno.test("faults: hostile states in some service directories leave runsvdir and the others alone", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/sv`;
  const dirs = await sleepers(sb, 5);
  // Names runit never meets: a newline in it, and 255 bytes.
  const odd = [await sb.service("sv/new\nline", { run: "exec sleep 1000" })];
  odd.push(await sb.service(`sv/${"x".repeat(255)}`, { run: "exec sleep 1000" }));
  const log = `${sb.dir}/stderr`;
  const runsvdir = `${await bin()}/runsvdir`;
  await using daemon = guard(sb.start("sh", ["-c", 'exec "$0" "$1" 2>"$2"', runsvdir, svdir, log]));
  const pids = await Promise.all([...dirs, ...odd].map((dir) => waitRunning(dir)));
  const [statusDir, controlFile, removed, unreadable, untouched] = dirs;
  // status made a directory, control replaced by a regular file, supervise/ removed, unreadable.
  await Deno.remove(`${statusDir}/supervise/status`);
  await Deno.mkdir(`${statusDir}/supervise/status`);
  await Deno.remove(`${controlFile}/supervise/control`);
  await Deno.writeTextFile(`${controlFile}/supervise/control`, "");
  await Deno.remove(`${removed}/supervise`, { recursive: true });
  await Deno.chmod(unreadable, 0);
  try {
    // Events in each: its service dies and is started again.
    for (const pid of pids.slice(0, 4)) Deno.kill(pid, "SIGKILL");
    await waitUntil(() => pids.slice(0, 4).every((pid) => !alive(pid)), { what: "the kills" });
    // Started again all the same (as root, mode 0 does not stop us).
    await waitUntil(
      () =>
        [statusDir, controlFile, removed, unreadable].every((dir) =>
          processesUnder(dir).some((pid) => !pids.includes(pid))
        ),
      { what: "the services to be started again" },
    );
    assertOk(alive(daemon.pid), "runsvdir is alive");
    assertEquals(pidOf(untouched), pids[4]);
    odd.forEach((dir, i) => assertEquals(pidOf(dir), pids[5 + i]));
    const restart = await sb.run(`${await bin()}/sv`, ["-w", "5", "restart", untouched]);
    assertEquals(restart.code, 0, restart.stdout);
    const oddRestart = await sb.run(`${await bin()}/sv`, ["-w", "5", "restart", ...odd]);
    assertEquals(oddRestart.code, 0, oddRestart.stdout);
    assertOk(!/at .*\.ts:\d+|Error:/.test(readText(log)), `no stack trace: ${readText(log)}`);
  } finally {
    await Deno.chmod(unreadable, 0o755);
  }
});

Deno.test("BoundedWriter: writes that fail (a full disk) are dropped, counted, and said once writes work", () => {
  const reactor = new Reactor();
  const full = openAt(AT_FDCWD, "/dev/full", { flags: O.WRONLY | O.CLOEXEC });
  const [readEnd, writeEnd] = makePipe({ nonblocking: true });
  try {
    const out = new BoundedWriter(full, {
      reactor,
      dropped: (lines) => `test: warning: ${lines} lines dropped\n`,
    });
    out.write(encoder.encode("one\ntwo\n"));
    out.write(encoder.encode("three\n"));
    assertEquals(out.dropped, 3);
    // Room again: the same descriptor now leads to a pipe.
    replaceFd(full, writeEnd);
    out.write(encoder.encode("four\n"));
    assertEquals(drain(readEnd), "test: warning: 3 lines dropped\nfour\n");
    assertEquals(out.dropped, 0);
    out.close();
  } finally {
    reactor.close();
    for (const fd of [full, readEnd, writeEnd]) closeFd(fd);
  }
});
