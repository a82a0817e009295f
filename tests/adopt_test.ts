/**
 * Adoption after a supervisor crash (src/supervise/adopt.ts): `kill -9` of
 * runsvdir or runsv, then a new one on the same directory, adopts what still
 * runs instead of starting a second copy; a status that names an unrelated
 * process is not adopted.
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import {
  alive,
  bin,
  debianTest,
  exists,
  pidOf,
  processesUnder,
  readText,
  Sandbox,
  type Started,
  testUnless,
  waitRunning,
  waitUntil,
} from "./helpers.ts";
import { decodeStatus, encodeStatus } from "../src/supervise/status.ts";
import {
  AT_FDCWD,
  closeFd,
  O,
  openAt,
  openPidFd,
  processInDirectory,
  processStart,
  SIG,
  signalPidFd,
} from "../src/sys/mod.ts";

async function sv(sb: Sandbox, ...args: string[]) {
  return await sb.run(`${await bin()}/sv`, args);
}

/** The status time (seconds) of `dir`'s service: its uptime's origin. */
function statusSec(dir: string): number {
  return decodeStatus(Deno.readFileSync(`${dir}/supervise/status`)).sec;
}

/** KILL a supervisor and wait for it to be gone: what it started keeps running. */
async function crash(started: Started): Promise<void> {
  Deno.kill(started.pid, "SIGKILL");
  // Not `done`: the services it started still hold its stderr.
  await started.child.status;
}

/** Wait until a supervisor answers for `dir` (its `ok` FIFO has a reader). */
async function waitSupervised(sb: Sandbox, dir: string): Promise<string> {
  return await waitUntil(async () => {
    const out = await sv(sb, "status", dir);
    return out.code === 0 && !out.stdout.includes("unable") ? out.stdout : "";
  }, { what: `a supervisor for ${dir}` });
}

/** The time from KILLing `pid` to its supervisor noticing (its pid file changes). */
async function restartLatency(dir: string, pid: number): Promise<number> {
  const began = performance.now();
  Deno.kill(pid, "SIGKILL");
  await waitUntil(() => pidOf(dir) !== pid, {
    interval: 5,
    what: `${dir} to notice its exit`,
  });
  return performance.now() - began;
}

Deno.test("adopt: runsvdir KILLed and started again adopts every service", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  const a = await sb.service("service/a", { run: "exec sleep 1000" });
  const b = await sb.service("service/b", {
    run: "exec sleep 1000",
    finish: 'echo "$@" >> finish.out',
  });
  const c = await sb.service("service/c", { run: "exec sleep 1000" });
  const first = sb.start(`${await bin()}/runsvdir`, [svdir]);
  const pids = [await waitRunning(a), await waitRunning(b), await waitRunning(c)];
  const since = [a, b, c].map(statusSec);
  await crash(first);
  for (const [index, dir] of [a, b, c].entries()) assertEquals(processesUnder(dir), [pids[index]]);

  sb.start(`${await bin()}/runsvdir`, [svdir]);
  for (const dir of [a, b, c]) await waitSupervised(sb, dir);
  // No second copy, the same pids, and the uptime carries on.
  for (const [index, dir] of [a, b, c].entries()) {
    assertEquals(processesUnder(dir), [pids[index]]);
    assertEquals(pidOf(dir), pids[index]);
    assertEquals(statusSec(dir), since[index]);
    assertMatch(readText(`${dir}/supervise/stat`), /^run\n$/);
  }
  assertMatch(await waitSupervised(sb, a), new RegExp(`^run: .*a: \\(pid ${pids[0]}\\) \\d+s\n$`));

  // An adopted process's exit is noticed at once, and it is restarted.
  const latency = await restartLatency(a, pids[0]);
  assertOk(latency < 500, `exit noticed after ${latency.toFixed(0)} ms`);
  await waitRunning(a, { not: pids[0] });

  // down: TERM; ./finish gets the arguments of an unknown exit status.
  assertEquals((await sv(sb, "down", b)).code, 0);
  await waitUntil(() => !alive(pids[1]), { what: "b's adopted process to end" });
  await waitUntil(() => readText(`${b}/supervise/stat`) === "down\n", { what: "b down" });
  assertEquals(readText(`${b}/finish.out`), "-1 0\n");
  assertEquals((await sv(sb, "up", b)).code, 0);
  await waitRunning(b, { not: pids[1] });

  // restart: the adopted process is TERMed and a new ./run started.
  assertEquals((await sv(sb, "restart", c)).code, 0);
  const next = await waitRunning(c, { not: pids[2] });
  assertOk(!alive(pids[2]));
  assertEquals(processesUnder(c), [next]);
});

Deno.test("adopt: runsv KILLed and started again adopts; pause, cont, kill, exit work", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 1000" });
  const first = sb.start(`${await bin()}/runsv`, [dir]);
  const pid = await waitRunning(dir);
  const since = statusSec(dir);
  await crash(first);

  const second = sb.start(`${await bin()}/runsv`, [dir]);
  await waitSupervised(sb, dir);
  assertEquals(processesUnder(dir), [pid]);
  assertEquals(pidOf(dir), pid);
  assertEquals(statusSec(dir), since);

  assertEquals((await sv(sb, "pause", dir)).code, 0);
  await waitUntil(() => readProcState(pid) === "T", { what: "the adopted process stopped" });
  assertEquals((await sv(sb, "cont", dir)).code, 0);
  await waitUntil(() => readProcState(pid) === "S", { what: "the adopted process continued" });
  assertEquals(pidOf(dir), pid);

  // A second crash: the adopted process is adopted again.
  await crash(second);
  const third = sb.start(`${await bin()}/runsv`, [dir]);
  await waitSupervised(sb, dir);
  assertEquals(processesUnder(dir), [pid]);

  // kill: KILL (through the pidfd), the exit noticed, ./run started again.
  assertEquals((await sv(sb, "kill", dir)).code, 0);
  const next = await waitRunning(dir, { not: pid });
  assertOk(!alive(pid));
  assertEquals((await sv(sb, "exit", dir)).code, 0);
  assertEquals((await third.done).code, 0);
  assertOk(!alive(next));
  assertEquals(processesUnder(dir), []);
});

function readProcState(pid: number): string {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2)[0];
}

Deno.test("adopt: a status naming an unrelated process is not adopted", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 1000" });
  await Deno.mkdir(`${dir}/supervise`);
  // The right directory, the wrong start time (a reused pid).
  const old = sb.start("sleep", ["1000"], { cwd: dir });
  // The right start time, the wrong directory.
  const elsewhere = sb.start("sleep", ["1000"], { cwd: sb.dir });
  const startOf = (pid: number) => {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const btime = Number(/^btime (\d+)$/m.exec(Deno.readTextFileSync("/proc/stat"))![1]);
    return btime + Math.floor(ticks / 100);
  };
  for (
    const [pid, sec] of [[old.pid, startOf(old.pid) - 3600], [
      elsewhere.pid,
      startOf(elsewhere.pid),
    ]]
  ) {
    Deno.writeFileSync(
      `${dir}/supervise/status`,
      encodeStatus({ sec, nsec: 0, pid, paused: false, want: "up", gotTerm: false, state: "run" }),
    );
    const runsv = sb.start(`${await bin()}/runsv`, [dir]);
    const started = await waitRunning(dir, { not: pid });
    assertOk(alive(pid), "the unrelated process was left alone");
    assertEquals(readProcState(pid), "S");
    assertEquals((await sv(sb, "exit", dir)).code, 0);
    assertEquals((await runsv.done).code, 0);
    assertOk(!alive(started));
  }
});

/**
 * The line numbers logged in `dir` so far: in the files svlogd set aside
 * (a new svlogd sets aside the `current` its predecessor left), then `current`.
 */
function loggedNumbers(dir: string): number[] {
  const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).filter((name) =>
    name.startsWith("@")
  ).sort();
  return [...names, "current"].flatMap((name) => readText(`${dir}/${name}`).split("\n"))
    .filter((line) => /^line\d+$/.test(line)).map((line) => Number(line.slice(4)));
}

/** A logged service survives its supervisor's crash: no SIGPIPE, its lines keep flowing. */
async function loggedCase(kind: "runsvdir" | "runsv"): Promise<void> {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  // One process writing a numbered line every 10 ms, each in one write.
  const dir = await sb.service("service/counter", {
    run:
      `exec perl -e '$|=1; for ($i = 1; ; $i++) { print "line$i\\n"; select(undef, undef, undef, 0.01) }'`,
    log: `exec ${await bin()}/svlogd ./main`,
  });
  await Deno.mkdir(`${dir}/log/main`);
  const logged = `${dir}/log/main`;
  const program = `${await bin()}/${kind}`;
  const start = () => sb.start(program, [kind === "runsv" ? dir : svdir]);
  const first = start();
  const pid = await waitRunning(dir);
  const logPid = await waitRunning(`${dir}/log`);
  await waitUntil(() => loggedNumbers(logged).length >= 10, { what: "lines logged" });
  await crash(first);
  const before = loggedNumbers(logged).at(-1)!;

  start();
  await waitSupervised(sb, dir);
  assertEquals(pidOf(dir), pid);
  assertEquals(processesUnder(dir).filter((p) => p === pid || isPerl(p)), [pid]);
  // The placeholder lost its host: log/run starts again on the same pipe.
  await waitRunning(`${dir}/log`, { not: logPid });
  await waitUntil(() => loggedNumbers(logged).at(-1)! > before + 50, {
    what: "lines logged after the restart",
  });
  assertOk(alive(pid), "the service got no SIGPIPE");
  assertEquals(pidOf(dir), pid);
  // Every line, in order: none lost (only a line the dead process had
  // read in part could be, and each line comes in one write).
  const numbers = loggedNumbers(logged);
  assertEquals(numbers, numbers.map((_, index) => index + 1));
  assertEquals((await sv(sb, "exit", dir)).code, 0);
  await waitUntil(() => !alive(pid), { what: "the service to end" });
}

function isPerl(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).startsWith("perl");
  } catch {
    return false;
  }
}

Deno.test("adopt: runsvdir KILLed, a logged service keeps logging", async () => {
  await loggedCase("runsvdir");
});

Deno.test("adopt: runsv KILLed, a logged service keeps logging", async () => {
  await loggedCase("runsv");
});

/** A service writing a numbered line every 10 ms, each in one write, as one process. */
const COUNTER =
  `exec perl -e '$|=1; for ($i = 1; ; $i++) { print "line$i\\n"; select(undef, undef, undef, 0.01) }'`;

debianTest(
  "adopt: a standalone logger (Debian's svlogd) is adopted, a new ./run joins its pipe",
  async () => {
    await using sb = await Sandbox.create();
    const dir = await sb.service("counter", { run: COUNTER, log: "exec /usr/bin/svlogd ./main" });
    await Deno.mkdir(`${dir}/log/main`);
    const logged = `${dir}/log/main`;
    const program = `${await bin()}/runsv`;
    const first = sb.start(program, [dir]);
    const pid = await waitRunning(dir);
    const logPid = await waitRunning(`${dir}/log`);
    await waitUntil(() => loggedNumbers(logged).length >= 10, { what: "lines logged" });
    await crash(first);
    const before = loggedNumbers(logged).at(-1)!;

    const second = sb.start(program, [dir]);
    await waitSupervised(sb, dir);
    assertEquals([pidOf(dir), pidOf(`${dir}/log`)], [pid, logPid]);
    await waitUntil(() => loggedNumbers(logged).at(-1)! > before + 30, {
      what: "lines logged after the restart",
    });
    const numbers = loggedNumbers(logged);
    assertEquals(numbers, numbers.map((_, index) => index + 1));

    // A new ./run writes to the pipe the adopted logger reads.
    assertEquals((await sv(sb, "restart", dir)).code, 0);
    await waitRunning(dir, { not: pid });
    await waitUntil(() => {
      const all = loggedNumbers(logged);
      const restart = all.lastIndexOf(1);
      return restart > 0 && all.length - restart >= 20;
    }, { what: "the new ./run's lines logged" });
    assertEquals(pidOf(`${dir}/log`), logPid);

    // exit: the logger sees the end of its input once the service is gone.
    assertEquals((await sv(sb, "exit", dir)).code, 0);
    assertEquals((await second.done).code, 0);
    await waitUntil(() => !alive(logPid), { what: "the adopted logger to end" });
  },
);

Deno.test("adopt: a running ./finish is adopted, then ./run starts again", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", {
    run: "exec sleep 1000",
    finish: "[ -e hold ] && exec sleep 1000\nexit 0",
  });
  const program = `${await bin()}/runsv`;
  const first = sb.start(program, [dir]);
  const runPid = await waitRunning(dir);
  await Deno.writeTextFile(`${dir}/hold`, "");
  Deno.kill(runPid, "SIGKILL");
  const finishPid = await waitUntil(
    () => readText(`${dir}/supervise/stat`) === "finish\n" && alive(pidOf(dir)) ? pidOf(dir) : 0,
    { what: "./finish to run" },
  );
  await crash(first);

  const second = sb.start(program, [dir]);
  await waitSupervised(sb, dir);
  assertEquals(readText(`${dir}/supervise/stat`), "finish\n");
  assertEquals(pidOf(dir), finishPid);
  assertEquals(processesUnder(dir), [finishPid]);
  await Deno.remove(`${dir}/hold`);
  Deno.kill(finishPid, "SIGKILL");
  const next = await waitRunning(dir, { not: finishPid });
  assertEquals(processesUnder(dir), [next]);
  assertEquals((await sv(sb, "exit", dir)).code, 0);
  assertEquals((await second.done).code, 0);
  assertOk(!alive(next));
});

Deno.test("adopt: a process's start time and working directory from /proc", async () => {
  await using sb = await Sandbox.create();
  await Deno.mkdir(`${sb.dir}/here`);
  const before = Date.now() / 1000;
  const sleeper = sb.start("sleep", ["1000"], { cwd: `${sb.dir}/here` });
  const started = processStart(sleeper.pid)!;
  // The boot time it counts from is whole seconds.
  assertOk(Math.abs(started.sec + started.nsec / 1e9 - before) < 1.5, `${started.sec} ${before}`);
  const here = openAt(AT_FDCWD, `${sb.dir}/here`, { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
  const there = openAt(AT_FDCWD, sb.dir, { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
  try {
    assertOk(processInDirectory(sleeper.pid, here));
    assertOk(!processInDirectory(sleeper.pid, there));
    const pidFd = openPidFd(sleeper.pid);
    assertOk(signalPidFd(pidFd, SIG.KILL));
    await sleeper.child.status;
    assertEquals(processStart(sleeper.pid), undefined);
    assertOk(!signalPidFd(pidFd, 0), "a pidfd never reaches another process");
    closeFd(pidFd);
  } finally {
    closeFd(here);
    closeFd(there);
  }
});

testUnless(
  "status is written before pid and stat: whoever sees the new pid finds status naming it",
  exists("/usr/bin/strace") ? undefined : "strace is not installed",
  async () => {
    // A crash right after a start must leave status naming the new process, or
    // the next supervisor starts a second copy; sv, and scripts, look at pid and stat.
    await using sb = await Sandbox.create();
    const dir = await sb.service("web", { run: "exec sleep 1000" });
    const trace = `${sb.dir}/renames`;
    sb.start("strace", [
      "-f",
      "-e",
      "trace=rename,renameat,renameat2",
      "-o",
      trace,
      `${await bin()}/runsv`,
      dir,
    ]);
    const pid = await waitRunning(dir);
    await waitUntil(() => readText(trace).includes("stat.new"), { what: "the traced renames" });
    const renamed = readText(trace).split("\n").flatMap((line) =>
      /"supervise\/(status|pid|stat)\.new"/.exec(line)?.[1] ?? []
    );
    const pids = renamed.flatMap((file, index) => file === "pid" ? [index] : []);
    assertOk(pids.length >= 2, `pid written at start-up and for ${pid}: ${renamed}`);
    for (const index of pids) assertEquals(renamed[index - 1], "status", renamed.join(" "));
  },
);
