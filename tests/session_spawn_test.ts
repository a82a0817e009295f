/**
 * `newSession` spawns through the session helper: the child is ours, in a
 * new session and process group that it does not lead, so it may call
 * setsid() itself; and `runsvdir -P` services behave as under runit.
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import {
  alive,
  bin,
  onPath,
  pidOf,
  processesUnder,
  readAll,
  readText,
  Sandbox,
  waitRunning,
  waitUntil,
} from "./helpers.ts";
import { childrenOf, readProc } from "./proc.ts";
import {
  closeFd,
  exitCode,
  makePipe,
  sendSignal,
  SIG,
  spawn,
  SysError,
  waitFor,
} from "../src/sys/mod.ts";
import { sessionHelperImage } from "../src/sys/session_helper.ts";
import { assembleHelper, HELPER_ARCHES, toolsFor } from "../scripts/session_helper.ts";

/** ppid, process group and session of `pid` (fields 4, 5 and 6 of /proc/PID/stat). */
function idsOf(pid: number): { ppid: number; pgid: number; sid: number } {
  const stat = readProc(`/proc/${pid}/stat`);
  const [ppid, pgid, sid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(1, 4)
    .map(Number);
  return { ppid, pgid, sid };
}

const python = onPath("python3");
const setsid = onPath("setsid");
const qemu = onPath("qemu-aarch64");

Deno.test("session spawn: our child, in a new session and group that it does not lead", async () => {
  const pid = spawn(["sleep", "1000"], { path: "/bin/sleep", newSession: true });
  try {
    const ours = idsOf(Deno.pid);
    const child = idsOf(pid);
    assertEquals(child.ppid, Deno.pid);
    assertEquals(child.pgid, child.sid);
    assertOk(child.sid !== pid, `${pid} leads its session`);
    assertOk(child.sid !== ours.sid && child.pgid !== ours.pgid, "a session other than ours");
    // The helper that led it is gone, already reaped: no zombie of ours.
    assertOk(!alive(child.sid), "the session helper has exited");
    assertEquals((await childrenOf(Deno.pid)).filter((row) => row.state === "Z"), []);
  } finally {
    sendSignal(pid, SIG.KILL);
  }
  assertEquals((await waitFor(pid)) & 0x7f, SIG.KILL);
});

Deno.test({
  name: "session spawn: util-linux setsid runs its program without forking",
  ignore: setsid === undefined,
  fn: async () => {
    // In a sandbox: should setsid fork after all, the sandbox ends what it left.
    await using sb = await Sandbox.create();
    const pid = spawn(["setsid", "sleep", "1000"], { path: setsid, newSession: true, cwd: sb.dir });
    try {
      // setsid forks (and exits) only when it leads a process group already.
      await waitUntil(() => readProc(`/proc/${pid}/comm`) === "sleep\n", { what: "sleep" });
      assertEquals(idsOf(pid).sid, pid);
      assertEquals(idsOf(pid).ppid, Deno.pid);
    } finally {
      sendSignal(pid, SIG.KILL);
    }
    await waitFor(pid);
  },
});

Deno.test({
  name: "session spawn: python's os.setsid() succeeds",
  ignore: python === undefined,
  fn: async () => {
    const [readEnd, writeEnd] = makePipe({ nonblocking: true });
    const pid = spawn([
      "python3",
      "-c",
      "import os; os.setsid(); print(os.getsid(0) == os.getpid())",
    ], { path: python, newSession: true, dup: [[1, writeEnd]] });
    closeFd(writeEnd);
    const output = await readAll(readEnd);
    closeFd(readEnd);
    assertEquals(exitCode(await waitFor(pid)), 0);
    assertEquals(output, "True\n");
  },
});

Deno.test("session spawn: exec failures are reported by the parent, the child reaped", async () => {
  const zombies = async () =>
    (await childrenOf(Deno.pid)).filter((row) => row.state === "Z").map((row) => row.pid);
  const cases: Array<[string[], string]> = [
    [["./no-such-program"], "unable to start ./no-such-program: file does not exist"],
    [["/"], "unable to start /: access denied"],
  ];
  for (const [argv, message] of cases) {
    let error: unknown;
    try {
      spawn(argv, { cwd: "/", newSession: true });
    } catch (caught) {
      error = caught;
    }
    assertOk(error instanceof SysError, String(error));
    assertEquals(error.message, message);
  }
  // Other tests' children may be zombies for a moment under load: wait for
  // none. A helper child left unreaped would stay one and fail this.
  await waitUntil(async () => (await zombies()).length === 0, { what: "no zombie children" });
});

for (const arch of HELPER_ARCHES) {
  Deno.test({
    name: `session helper: the embedded ${arch} image is what its source assembles to`,
    ignore: toolsFor(arch) === undefined,
    fn: async () => {
      assertEquals(await assembleHelper(arch), sessionHelperImage(arch));
    },
  });
}

/** Run the aarch64 image under qemu-user; the pipe's report and the program's output. */
async function underQemu(sb: Sandbox, image: Uint8Array, program: string[]) {
  const helper = `${sb.dir}/helper-${crypto.randomUUID()}`;
  await Deno.writeFile(helper, image, { mode: 0o755 });
  const report = `${helper}.report`;
  const quoted = program.map((arg) => `'${arg}'`).join(" ");
  const result = await sb.run("/bin/sh", [
    "-c",
    `${qemu} -strace ${helper} ${quoted} 3>${report} 2>${helper}.strace; echo "exit $?"`,
  ]);
  const bytes = await Deno.readFile(report);
  return {
    report: [...new Int32Array(bytes.buffer, 0, bytes.length >> 2)],
    stdout: result.stdout,
    strace: readText(`${helper}.strace`),
  };
}

Deno.test({
  name: "session helper: the aarch64 image under qemu-user",
  ignore: qemu === undefined,
  fn: async () => {
    await using sb = await Sandbox.create();
    const image = sessionHelperImage("aarch64")!;
    // qemu-user refuses CLONE_PARENT (EINVAL), which shows the helper's own failure path.
    const refused = await underQemu(sb, image, ["/bin/true", "true"]);
    assertMatch(refused.strace, /setsid\(\) = \d+/);
    assertMatch(refused.strace, /clone\(CLONE_PARENT\|0x11,/);
    assertEquals(refused.report, [-22]);
    assertEquals(refused.stdout, "exit 111\n");
    // The same image with a plain fork (flags SIGCHLD only) runs the child's side.
    const plain = image.slice();
    const movFlags = [0x20, 0x02, 0x90, 0xd2]; // mov x0, #0x8011
    const at = plain.findIndex((_, i) => movFlags.every((byte, j) => plain[i + j] === byte));
    assertOk(at > 0, "the clone flags instruction");
    plain[at + 2] = 0x80; // mov x0, #0x11
    const ran = await underQemu(sb, plain, [
      "/bin/sh",
      "sh",
      "-c",
      'echo "$$ $(cut -d" " -f6 /proc/$$/stat) $1"',
      "sh",
      "arg",
    ]);
    // The helper exits at once; its orphaned child writes after it.
    const lines = ran.stdout.trim().split("\n").sort();
    assertEquals(lines.length, 2, ran.stdout);
    assertEquals(lines[1], "exit 0");
    const [pid, sid, arg] = lines[0].split(" ");
    assertEquals(ran.report, [Number(pid)]);
    assertEquals(arg, "arg");
    assertOk(sid !== pid, "the program does not lead its session");
    const failed = await underQemu(sb, plain, ["/no/such/program", "x"]);
    assertEquals(failed.report.length, 2);
    // The pid and the exec's -ENOENT race to the pipe: either order.
    assertEquals(failed.report.filter((value) => value < 0), [-2]);
    assertEquals(failed.report.filter((value) => value > 0).length, 1);
  },
});

/** runsvdir -P on `svdir`, with its stderr collected. */
async function runsvdirP(sb: Sandbox, svdir: string) {
  return sb.start(`${await bin()}/runsvdir`, ["-P", svdir]);
}

Deno.test("runsvdir -P: `exec setsid sleep` stays up, one process, no crash loop", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("service/setsid", { run: "exec setsid sleep 1000" });
  await runsvdirP(sb, `${sb.dir}/service`);
  const pid = await waitRunning(dir);
  // Up for two seconds with the same pid (a crash loop restarts it after a second).
  await waitUntil(async () => {
    const status = await sb.run(`${await bin()}/sv`, ["status", dir]);
    const match = /^run: .*\(pid (\d+)\) (\d+)s/.exec(status.stdout);
    assertOk(match && Number(match[1]) === pid, `pid changed: ${status.stdout}`);
    return Number(match[2]) >= 2;
  }, { what: "two seconds up", timeout: 15_000, interval: 200 });
  assertEquals(readProc(`/proc/${pid}/comm`), "sleep\n");
  assertEquals(idsOf(pid).sid, pid);
  const sleeps = processesUnder(sb.dir).filter((p) => readProc(`/proc/${p}/comm`) === "sleep\n");
  assertEquals(sleeps, [pid]);
});

Deno.test("runsvdir -P: sessions apart, kill -- -PGID takes one service only", async () => {
  await using sb = await Sandbox.create();
  const a = await sb.service("service/a", { run: "exec sleep 1000", log: "exec cat" });
  const b = await sb.service("service/b", { run: "exec sleep 1000" });
  const daemon = await runsvdirP(sb, `${sb.dir}/service`);
  const [aPid, aLog, bPid] = [
    await waitRunning(a),
    await waitRunning(`${a}/log`),
    await waitRunning(b),
  ];
  const own = idsOf(daemon.pid);
  const groups = new Set<number>();
  for (const pid of [aPid, aLog, bPid]) {
    const ids = idsOf(pid);
    assertEquals(ids.ppid, daemon.pid);
    assertEquals(ids.pgid, ids.sid);
    assertOk(ids.sid !== pid, `${pid} leads its session`);
    assertOk(ids.sid !== own.sid && ids.pgid !== own.pgid, `${pid} is in runsvdir's session`);
    groups.add(ids.pgid);
  }
  assertEquals(groups.size, 3);
  Deno.kill(-idsOf(aPid).pgid, "SIGTERM");
  const again = await waitRunning(a, { not: aPid });
  assertOk(!alive(aPid), "a was killed");
  assertOk(alive(daemon.pid), "runsvdir lives");
  assertEquals([pidOf(b), pidOf(`${a}/log`)], [bPid, aLog]);
  assertOk(idsOf(again).sid !== again, "a restarted in a session it does not lead");
});

Deno.test("runsvdir -P: a ./run that cannot be executed is reported as before", async () => {
  await using sb = await Sandbox.create();
  await sb.service("service/broken", { run: "exit 0" });
  // A missing interpreter: execve fails with ENOENT although ./run exists.
  await Deno.writeTextFile(`${sb.dir}/service/broken/run`, "#!/no/such/interpreter\n");
  const daemon = await runsvdirP(sb, `${sb.dir}/service`);
  await waitUntil(() => readText(`${sb.dir}/service/broken/supervise/stat`) !== "", {
    what: "the supervisor to start",
  });
  Deno.kill(daemon.pid, "SIGTERM");
  const { stderr } = await daemon.done;
  assertMatch(stderr, /^runsv broken: warning: unable to start \.\/run: file does not exist$/m);
});

const root = Deno.uid() === 0;
const unshare = onPath("unshare");

Deno.test({
  name: "session spawn: without /proc the child leads its new session (the documented fallback)",
  ignore: !root || unshare === undefined || python === undefined,
  fn: async () => {
    await using sb = await Sandbox.create();
    const script = `${sb.dir}/child.ts`;
    const sys = new URL("../src/sys/mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { spawn, waitFor } from "${sys}";
const code = "import os; print(os.getsid(0) == os.getpid(), os.getsid(0) != os.getsid(os.getppid()))";
const pid = spawn(["python3", "-c", code], { path: "${python}", newSession: true });
console.log(await waitFor(pid));
`,
    );
    // A private mount namespace of its own, where /proc is unmounted.
    const result = await sb.run(unshare!, [
      "--mount",
      "/bin/sh",
      "-c",
      `umount -l /proc && exec '${Deno.execPath()}' run --allow-all '${script}'`,
    ]);
    assertEquals([result.stdout, result.stderr], ["True True\n0\n", ""]);
  },
});
