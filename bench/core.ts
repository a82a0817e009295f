/**
 * Core benchmark, ours against Debian's runit in one run (not a test):
 * - start-up: `sv status` of one service and `sv -V` against an empty
 *   program run the same way (the same launcher, so the same `deno run`
 *   flags), and against the tree before the start-up work (`--baseline REV`,
 *   default d65d649, unpacked with `git archive`); interleaved runs, medians;
 * - footprint: an idle runsvdir with 10 services against an idle empty
 *   program and the baseline's runsvdir, all running at the same time (PSS
 *   shares the deno binary's pages among them: only side by side is fair);
 * - `sv status` of 1 and of 100 services: median wall time, ratio;
 * - crash-to-restart latency of a service that exits every 1.5 s: median, ratio;
 * - runsv's memory (PSS) supervising one service with a logger.
 *
 * `deno task bench [--baseline REV]` (needs Debian's runit: apt-get install runit).
 *
 * @module
 */

import { install, launcherScript } from "../scripts/install.ts";
import { isRunning, median, sleep, waitUntil, writeScript } from "./common.ts";

const RUNS = 30;

async function timeCommand(command: string, args: string[], env: Record<string, string>) {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const result = await new Deno.Command(command, { args, env, stdout: "null", stderr: "null" })
      .output();
    times.push(performance.now() - started);
    if (i === 0 && result.code !== 0) {
      throw new Error(`${command} ${args.join(" ")}: ${result.code}`);
    }
  }
  return median(times);
}

/** PSS and USS (private) of a process, in kB, from smaps_rollup. */
async function memoryOf(pid: number): Promise<{ pss: number; uss: number }> {
  // Deno refuses /proc/PID/ without --allow-all; cat has no such rule.
  const result = await new Deno.Command("cat", { args: [`/proc/${pid}/smaps_rollup`] }).output();
  const text = new TextDecoder().decode(result.stdout);
  function field(name: string): number {
    return Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)![1]);
  }
  return { pss: field("Pss"), uss: field("Private_Clean") + field("Private_Dirty") };
}

async function service(dir: string, run: string, log = true): Promise<void> {
  await writeScript(`${dir}/run`, run);
  if (log) await writeScript(`${dir}/log/run`, "exec cat > /dev/null");
}

/** An idle program: what a Deno process costs before it does anything. */
const IDLE = "setInterval(() => {}, 1e9);\n";

/**
 * A launcher like the installed one, for a program of one line: an empty
 * one is the floor every start-up pays, an idle one the floor of memory.
 */
async function program(dir: string, source: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/main.ts`, source);
  const launcher = `${dir}/run`;
  await Deno.writeTextFile(launcher, launcherScript(dir, { deno: Deno.execPath() }));
  await Deno.chmod(launcher, 0o755);
  return launcher;
}

/** The tree at `rev`, unpacked and installed; undefined (with a note) when git cannot. */
async function installBaseline(rev: string, dir: string): Promise<string | undefined> {
  const checkout = new URL("..", import.meta.url).pathname;
  await Deno.mkdir(`${dir}/tree`, { recursive: true });
  const unpacked = await new Deno.Command("sh", {
    args: ["-c", 'git -C "$1" archive "$2" | tar -x -C "$3"', "sh", checkout, rev, `${dir}/tree`],
    stderr: "null",
  }).output();
  if (!unpacked.success) {
    console.error(`bench: no baseline: git archive ${rev} failed in ${checkout}`);
    return undefined;
  }
  const { install: installOld } = await import(`${dir}/tree/scripts/install.ts`);
  return (await installOld(`${dir}/prefix`) as string).replace(/\/runit$/, "");
}

/** Median wall time of each command, run in turns (so load that comes and goes hits all). */
async function timeInTurns(
  commands: Array<{ command: string; args: string[]; env?: Record<string, string> }>,
): Promise<number[]> {
  const times: number[][] = commands.map(() => []);
  for (let round = -2; round < RUNS; round++) {
    for (const [i, { command, args, env }] of commands.entries()) {
      const started = performance.now();
      await new Deno.Command(command, { args, env, stdout: "null", stderr: "null" }).output();
      // The first rounds warm the caches (Deno's transpiled modules) and are not counted.
      if (round >= 0) times[i].push(performance.now() - started);
    }
  }
  return times.map(median);
}

/** A 10-service tree whose runsvdir is idle once every service runs. */
async function idleTree(dir: string): Promise<string[]> {
  const dirs: string[] = [];
  for (let i = 0; i < 10; i++) {
    await service(`${dir}/s${i}`, "exec sleep 100000", false);
    dirs.push(`${dir}/s${i}`);
  }
  return dirs;
}

const root = await Deno.makeTempDir({ prefix: "runit-bench-" });
const bin = (await install(`${root}/prefix`)).replace(/\/runit$/, "");
const baselineAt = Deno.args.indexOf("--baseline");
const baselineRev = baselineAt >= 0 ? Deno.args[baselineAt + 1] : "d65d649";
const supervisors: Deno.ChildProcess[] = [];
function supervise(runsv: string, dir: string): Deno.ChildProcess {
  const child = new Deno.Command(runsv, { args: [dir], stdin: "null", stderr: "null" }).spawn();
  supervisors.push(child);
  return child;
}

try {
  // Start-up and footprint against an empty Deno program run the same way.
  const empty = await program(`${root}/empty`, "");
  const idle = await program(`${root}/idle`, IDLE);
  const baseline = await installBaseline(baselineRev, `${root}/baseline`);
  const one = `${root}/one`;
  await service(`${one}/s0`, "exec sleep 100000", false);
  supervise("/usr/bin/runsv", `${one}/s0`);
  await waitUntil(() => isRunning(`${one}/s0`), "one service", { intervalMs: 20 });
  const bins = baseline ? [bin, baseline] : [bin];
  const [emptyMs, ...svMs] = await timeInTurns([
    { command: empty, args: [] },
    ...bins.flatMap((dir) => [
      { command: `${dir}/sv`, args: ["status", "s0"], env: { SVDIR: one } },
      { command: `${dir}/sv`, args: ["-V"] },
    ]),
  ]);
  const startRows: string[][] = [];
  for (const [i, what] of ["sv status, 1 service", "sv -V"].entries()) {
    startRows.push([
      `${what} (median of ${RUNS})`,
      `${svMs[i].toFixed(1)} ms`,
      `${emptyMs.toFixed(1)} ms`,
      `${(svMs[i] / emptyMs).toFixed(2)}x${i === 0 ? " (goal: 1.2x)" : ""}`,
      baseline ? `${svMs[i + 2].toFixed(1)} ms, ${(svMs[i + 2] / emptyMs).toFixed(2)}x` : "-",
    ]);
  }
  const trees: Array<{ label: string; child: Deno.ChildProcess; dirs: string[] }> = [];
  for (const [i, dir] of bins.entries()) {
    const dirs = await idleTree(`${root}/idle-tree-${i}`);
    // A first run fills Deno's transpile cache; a process that transpiled is bigger.
    const warm = new Deno.Command(`${dir}/runsvdir`, { args: [`${root}/idle-tree-${i}`] }).spawn();
    await waitUntil(() => dirs.every(isRunning), "runsvdir to warm up", { intervalMs: 20 });
    warm.kill("SIGTERM");
    await warm.status;
    const child = new Deno.Command(`${dir}/runsvdir`, {
      args: [`${root}/idle-tree-${i}`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    supervisors.push(child);
    trees.push({ label: i === 0 ? "ours" : "baseline", child, dirs });
  }
  const idler = new Deno.Command(idle, { stdin: "null", stdout: "null", stderr: "null" }).spawn();
  supervisors.push(idler);
  await waitUntil(() => trees.every(({ dirs }) => dirs.every(isRunning)), "idle trees", {
    intervalMs: 20,
  });
  // The lowest of several samples: V8 collects start-up garbage lazily.
  const lowest = new Map<number, { pss: number; uss: number }>();
  for (let sample = 0; sample < 5; sample++) {
    await sleep(400);
    for (const pid of [idler.pid, ...trees.map(({ child }) => child.pid)]) {
      const now = await memoryOf(pid);
      const low = lowest.get(pid) ?? { pss: Infinity, uss: Infinity };
      lowest.set(pid, { pss: Math.min(low.pss, now.pss), uss: Math.min(low.uss, now.uss) });
    }
  }
  const mb = (pid: number, kind: "pss" | "uss") => lowest.get(pid)![kind] / 1024;
  for (const kind of ["pss", "uss"] as const) {
    const ours = mb(trees[0].child.pid, kind);
    const floor = mb(idler.pid, kind);
    const before = baseline ? mb(trees[1].child.pid, kind) : undefined;
    startRows.push([
      `idle runsvdir, 10 services: ${kind.toUpperCase()}`,
      `${ours.toFixed(1)} MB`,
      `${floor.toFixed(1)} MB`,
      `${(ours / floor).toFixed(2)}x`,
      before === undefined
        ? "-"
        : `${before.toFixed(1)} MB, ours ${(before - ours).toFixed(1)} MB lower${
          kind === "pss" ? " (goal: 8)" : ""
        }`,
    ]);
  }
  console.log(
    ["what", "ours", "empty deno run", "ratio", `before (${baselineRev})`].join(" | "),
  );
  console.log("--- | --- | --- | --- | ---");
  for (const row of startRows) console.log(row.join(" | "));
  console.log();

  // sv status: the same 100 services (supervised by Debian's runsv) read by both sv's.
  const tree = `${root}/service`;
  const names: string[] = [];
  for (let i = 0; i < 100; i++) {
    names.push(`s${i}`);
    await service(`${tree}/s${i}`, "exec sleep 100000");
    supervise("/usr/bin/runsv", `${tree}/s${i}`);
  }
  await waitUntil(() => names.every((name) => isRunning(`${tree}/${name}/log`)), "100 services", {
    intervalMs: 20,
  });
  const env = { SVDIR: tree };
  const rows: string[][] = [];
  for (
    const [label, args] of [["1 service", ["status", "s0"]], ["100 services", [
      "status",
      ...names,
    ]]] as const
  ) {
    const theirs = await timeCommand("/usr/bin/sv", [...args], env);
    const ours = await timeCommand(`${bin}/sv`, [...args], env);
    rows.push([
      `sv status, ${label} (median of ${RUNS})`,
      `${ours.toFixed(1)} ms`,
      `${theirs.toFixed(1)} ms`,
      `${(ours / theirs).toFixed(1)}x`,
    ]);
  }

  // Crash-to-restart latency: exit every 1.5 s; time from exit to the next start.
  const latency: Record<string, number> = {};
  const crashers: Array<[string, string]> = [["ours", `${bin}/runsv`], ["runit", "/usr/bin/runsv"]];
  for (const [who, runsv] of crashers) {
    await service(
      `${root}/crash-${who}`,
      "echo start $(date +%s%N) >> ../crash-" + who +
        ".times\nsleep 1.5\necho exit $(date +%s%N) >> ../crash-" + who + ".times\nexit 1",
      false,
    );
    supervise(runsv, `${root}/crash-${who}`);
  }
  const cycles = 8;
  const times = (who: string) => {
    try {
      return Deno.readTextFileSync(`${root}/crash-${who}.times`).trim().split("\n");
    } catch {
      return [];
    }
  };
  await waitUntil(
    () => crashers.every(([who]) => times(who).length >= cycles * 2 + 1),
    "crash cycles",
    { intervalMs: 20 },
  );
  for (const [who] of crashers) {
    const lines = times(who).map((line) => line.split(" "));
    const gaps: number[] = [];
    for (let i = 1; i < lines.length; i++) {
      if (lines[i - 1][0] === "exit" && lines[i][0] === "start") {
        gaps.push((Number(lines[i][1]) - Number(lines[i - 1][1])) / 1e6);
      }
    }
    latency[who] = median(gaps);
  }
  rows.push([
    `crash-to-restart latency (median of ${cycles})`,
    `${latency.ours.toFixed(1)} ms`,
    `${latency.runit.toFixed(1)} ms`,
    `${(latency.ours / latency.runit).toFixed(1)}x`,
  ]);

  // Memory: one runsv supervising one service and its logger.
  const memory: Record<string, { pss: number; uss: number }> = {};
  for (const [who, runsv] of crashers) {
    const dir = `${root}/mem-${who}`;
    await service(dir, "exec sleep 100000");
    const child = supervise(runsv, dir);
    await waitUntil(() => isRunning(dir) && isRunning(`${dir}/log`), "memory service", {
      intervalMs: 20,
    });
    await sleep(500);
    memory[who] = await memoryOf(child.pid);
  }
  for (const kind of ["pss", "uss"] as const) {
    const ours = memory.ours[kind];
    const theirs = memory.runit[kind];
    rows.push([
      `runsv ${kind.toUpperCase()}, one service + log`,
      `${(ours / 1024).toFixed(1)} MB`,
      `${(theirs / 1024).toFixed(2)} MB`,
      `${(ours / theirs).toFixed(0)}x`,
    ]);
  }

  console.log(["what", "ours", "runit 2.1.2", "ratio"].join(" | "));
  console.log("--- | --- | --- | ---");
  for (const row of rows) console.log(row.join(" | "));
} finally {
  for (const child of supervisors) {
    try {
      child.kill("SIGTERM");
    } catch {
      // Gone.
    }
  }
  await Promise.all(supervisors.map((child) => child.status));
  await Deno.remove(root, { recursive: true });
}
