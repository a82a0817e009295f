/**
 * s6's `down-signal` and `timeout-finish` under our runsv and runsvdir:
 * real services (shell scripts that trap signals and note what they got),
 * driven by our sv and Debian's.
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import {
  alive,
  bin,
  debianTest,
  pidOf,
  readText,
  Sandbox,
  waitRunning,
  waitUntil,
  within,
} from "./helpers.ts";
import { signalFromText } from "../src/sys/signals.ts";

/**
 * `./run` that notes `start`, then the name of each of QUIT, TERM, INT it
 * gets (and exits), in `./got`. It sleeps in short steps so that a trap
 * runs soon after its signal.
 */
const TRAPPING_RUN = "echo start >> got\n" +
  'for sig in QUIT TERM INT; do trap "echo $sig >> got; exit 0" $sig; done\n' +
  "while :; do sleep 0.05; done";

/** The lines of the service's `got` file. */
function got(dir: string): string[] {
  return readText(`${dir}/got`).split("\n").filter((line) => line !== "");
}

async function startRunsv(sb: Sandbox, dir: string) {
  const runsv = sb.start(`${await bin()}/runsv`, [dir]);
  await waitRunning(dir);
  // The trap is set once `start` is written and the loop runs.
  await waitUntil(() => got(dir).at(-1) === "start", { what: "the traps set" });
  return runsv;
}

async function sv(sb: Sandbox, ...args: string[]) {
  const result = await sb.run(`${await bin()}/sv`, args);
  assertEquals(result.stderr, "");
  return result;
}

Deno.test("down-signal: names and numbers as s6 reads them", () => {
  const cases: Array<[string, number | undefined]> = [
    ["QUIT", 3],
    ["SIGQUIT", 3],
    ["quit", 3],
    ["SigQuit", 3],
    ["3", 3],
    ["SIG3", 3],
    ["HUP", 1],
    ["KILL", 9],
    ["USR2", 12],
    ["WINCH", 28],
    ["IOT", 6],
    ["64", 64],
    ["0", undefined],
    ["65", undefined],
    ["SIG", undefined],
    ["SIGSIGQUIT", undefined],
    ["QUITT", undefined],
    [" QUIT", undefined],
    ["+3", undefined],
    ["", undefined],
  ];
  assertEquals(cases.map(([text]) => [text, signalFromText(text)]), cases);
});

Deno.test("down-signal: QUIT for sv down, restart (t) and exit; read at each use", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("web", { run: TRAPPING_RUN });
  await Deno.writeTextFile(`${dir}/down-signal`, "QUIT\n");
  const runsv = await startRunsv(sb, dir);

  assertMatch((await sv(sb, "-w", "5", "down", dir)).stdout, /^ok: down: /);
  assertEquals(got(dir), ["start", "QUIT"]);

  // Edits take effect without a restart of runsv: the s6 spellings.
  await Deno.writeTextFile(`${dir}/down-signal`, "SIGQUIT");
  await sv(sb, "-w", "5", "up", dir);
  const first = await waitRunning(dir);
  await waitUntil(() => got(dir).at(-1) === "start", { what: "the traps set" });
  await sv(sb, "-w", "5", "restart", dir);
  await waitRunning(dir, { not: first });
  await waitUntil(() => got(dir).at(-1) === "start", { what: "the restarted traps set" });
  assertEquals(got(dir), ["start", "QUIT", "start", "QUIT", "start"]);

  await Deno.writeTextFile(`${dir}/down-signal`, "3\n");
  await sv(sb, "exit", dir);
  const done = await within(runsv.done, { what: "runsv to exit" });
  assertEquals([done.code, done.stderr], [0, ""]);
  assertEquals(got(dir), ["start", "QUIT", "start", "QUIT", "start", "QUIT"]);
});

Deno.test("down-signal: control/t exiting 0 sends nothing; control/d runs after it, as in runit", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("web", { run: TRAPPING_RUN });
  await Deno.writeTextFile(`${dir}/down-signal`, "QUIT\n");
  await sb.script(`${dir}/control/t`, "echo control-t >> got\nexit 0");
  await sb.script(`${dir}/control/d`, "echo control-d >> got\nexit 0");
  await startRunsv(sb, dir);
  const pid = pidOf(dir);
  await sv(sb, "down", dir);
  await waitUntil(() => got(dir).includes("control-d"), { what: "control/d to run" });
  // control/t replaced the signal: the service still runs, wanted down.
  assertEquals(got(dir), ["start", "control-t", "control-d"]);
  assertEquals(readText(`${dir}/supervise/stat`), "run, want down\n");
  assertOk(alive(pid));

  // Without control/t, runit sends the signal first and runs control/d after it,
  // whatever control/d then exits with: so does the down-signal.
  await Deno.remove(`${dir}/control/t`);
  await sv(sb, "up", dir);
  await sv(sb, "-w", "5", "down", dir);
  await waitUntil(() => got(dir).filter((line) => line === "control-d").length === 2, {
    what: "control/d to run again",
  });
  assertEquals(got(dir).slice(3).sort(), ["QUIT", "control-d"]);
});

Deno.test("down-signal: bad content is reported and TERM is sent", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("web", { run: TRAPPING_RUN });
  await Deno.writeTextFile(`${dir}/down-signal`, "QUITT\n");
  const runsv = await startRunsv(sb, dir);
  await sv(sb, "-w", "5", "down", dir);
  assertEquals(got(dir), ["start", "TERM"]);
  // Out of range, and empty: the same.
  for (const text of ["65\n", ""]) {
    await Deno.writeTextFile(`${dir}/down-signal`, text);
    await sv(sb, "up", dir);
    await waitUntil(() => got(dir).at(-1) === "start", { what: "the traps set" });
    await sv(sb, "-w", "5", "down", dir);
    assertEquals(got(dir).at(-1), "TERM");
  }
  await sv(sb, "exit", dir);
  const { stderr } = await within(runsv.done, { what: "runsv to exit" });
  assertEquals(stderr.split("\n").filter((line) => line !== ""), [
    `runsv ${dir}: warning: invalid down-signal: "QUITT": sending TERM`,
    `runsv ${dir}: warning: invalid down-signal: "65": sending TERM`,
    `runsv ${dir}: warning: invalid down-signal: "": sending TERM`,
  ]);
});

Deno.test("down-signal: runsvdir's shutdown sends it", async () => {
  await using sb = await Sandbox.create();
  const services = `${sb.dir}/services`;
  const dir = await sb.service("services/web", { run: TRAPPING_RUN });
  await Deno.writeTextFile(`${dir}/down-signal`, "SIGINT\n");
  const runsvdir = sb.start(`${await bin()}/runsvdir`, [services]);
  await waitRunning(dir);
  await waitUntil(() => got(dir).at(-1) === "start", { what: "the traps set" });
  Deno.kill(runsvdir.pid, "SIGTERM");
  const done = await within(runsvdir.done, { what: "runsvdir to exit" });
  assertEquals([done.code, done.stderr], [0, ""]);
  assertEquals(got(dir), ["start", "INT"]);
});

debianTest(
  "down-signal: Debian's sv drives such a service unchanged",
  async () => {
    await using sb = await Sandbox.create();
    const dir = await sb.service("web", { run: TRAPPING_RUN });
    await Deno.writeTextFile(`${dir}/down-signal`, "QUIT\n");
    await startRunsv(sb, dir);
    const down = await sb.run("/usr/bin/sv", ["-w", "5", "down", dir]);
    assertEquals([down.code, down.stderr], [0, ""]);
    assertMatch(down.stdout, /^ok: down: /);
    assertEquals(got(dir), ["start", "QUIT"]);
    const up = await sb.run("/usr/bin/sv", ["up", dir]);
    assertEquals(up.code, 0);
    const pid = await waitRunning(dir);
    await waitUntil(() => got(dir).at(-1) === "start", { what: "the traps set" });
    const restart = await sb.run("/usr/bin/sv", ["-w", "5", "restart", dir]);
    assertEquals([restart.code, restart.stderr], [0, ""]);
    await waitRunning(dir, { not: pid });
    assertEquals(got(dir).slice(0, 4), ["start", "QUIT", "start", "QUIT"]);
  },
);

Deno.test("timeout-finish: a hanging ./finish is KILLed and the service starts again", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("web", {
    run: "echo start >> got\nexec sleep 100",
    finish: "echo $$ > finish.pid\nexec sleep 100",
  });
  await Deno.writeTextFile(`${dir}/timeout-finish`, "300\n");
  const runsv = sb.start(`${await bin()}/runsv`, [dir]);
  const first = await waitRunning(dir);
  await sv(sb, "term", dir);
  const finish = await waitUntil(() => Number(readText(`${dir}/finish.pid`)), {
    what: "./finish to start",
  });
  assertEquals(readText(`${dir}/supervise/stat`), "finish\n");
  // Well before the finish's own 100 s.
  await waitRunning(dir, { not: first, timeout: 10_000 });
  assertOk(!alive(finish));
  assertEquals(got(dir), ["start", "start"]);
  // On exit ./finish runs (and hangs) once more, and is KILLed again.
  await sv(sb, "exit", dir);
  const { code, stderr } = await within(runsv.done, { what: "runsv to exit" });
  const warning =
    `runsv ${dir}: warning: ./finish still running after 300 ms (timeout-finish): sending KILL\n`;
  assertEquals([code, stderr], [0, warning.repeat(2)]);
});

Deno.test("timeout-finish: without it (or 0), a slow ./finish is waited for, as runit does", async () => {
  for (const timeout of [undefined, "0\n"]) {
    await using sb = await Sandbox.create();
    const dir = await sb.service("web", {
      run: "echo start >> got\nexec sleep 100",
      finish: "sleep 1.5\necho finish-done >> got",
    });
    if (timeout !== undefined) await Deno.writeTextFile(`${dir}/timeout-finish`, timeout);
    sb.start(`${await bin()}/runsv`, [dir]);
    const first = await waitRunning(dir);
    await sv(sb, "term", dir);
    await waitRunning(dir, { not: first });
    // The new ./run started only once ./finish had ended by itself.
    assertEquals(got(dir), ["start", "finish-done", "start"]);
  }
});

Deno.test("timeout-finish: under runsvdir -P, the hanging ./finish's process group is KILLed", async () => {
  await using sb = await Sandbox.create();
  const services = `${sb.dir}/services`;
  const dir = await sb.service("services/web", {
    run: "echo start >> got\nexec sleep 100",
    // Not exec'd: the shell waits for its child, which must go too.
    finish: "sleep 100 &\necho $$ $! > finish.pids\nwait",
  });
  await Deno.writeTextFile(`${dir}/timeout-finish`, "300");
  sb.start(`${await bin()}/runsvdir`, ["-P", services]);
  const first = await waitRunning(dir);
  await sv(sb, "term", dir);
  const pids = (await waitUntil((): number[] | null => {
    const found = /^(\d+) (\d+)\n/.exec(readText(`${dir}/finish.pids`));
    return found ? [Number(found[1]), Number(found[2])] : null;
  }, { what: "./finish to start" }))!;
  await waitRunning(dir, { not: first });
  await waitUntil(() => pids.every((pid) => !alive(pid)), {
    what: "./finish and its child to end",
  });
});
