/**
 * Core benchmark, ours against Debian's runit in one run (not a test):
 * - `sv status` of 1 and of 100 services: median wall time, ratio;
 * - crash-to-restart latency of a service that exits every 1.5 s: median, ratio;
 * - runsv's memory (PSS) supervising one service with a logger.
 *
 * `deno task bench` (needs Debian's runit: apt-get install runit).
 *
 * @module
 */

import { install } from "../scripts/install.ts";

const RUNS = 30;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

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
  await Deno.mkdir(`${dir}/log`, { recursive: true });
  await Deno.writeTextFile(`${dir}/run`, `#!/bin/sh\n${run}\n`);
  await Deno.chmod(`${dir}/run`, 0o755);
  if (log) {
    await Deno.writeTextFile(`${dir}/log/run`, "#!/bin/sh\nexec cat > /dev/null\n");
    await Deno.chmod(`${dir}/log/run`, 0o755);
  } else await Deno.remove(`${dir}/log`);
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function isRunning(dir: string): boolean {
  try {
    return Deno.readTextFileSync(`${dir}/supervise/stat`).startsWith("run");
  } catch {
    return false;
  }
}

const root = await Deno.makeTempDir({ prefix: "runit-bench-" });
const bin = (await install(`${root}/prefix`)).replace(/\/runit$/, "");
const supervisors: Deno.ChildProcess[] = [];
function supervise(runsv: string, dir: string): Deno.ChildProcess {
  const child = new Deno.Command(runsv, { args: [dir], stdin: "null", stderr: "null" }).spawn();
  supervisors.push(child);
  return child;
}

try {
  // sv status: the same 100 services (supervised by Debian's runsv) read by both sv's.
  const tree = `${root}/service`;
  const names: string[] = [];
  for (let i = 0; i < 100; i++) {
    names.push(`s${i}`);
    await service(`${tree}/s${i}`, "exec sleep 100000");
    supervise("/usr/bin/runsv", `${tree}/s${i}`);
  }
  await waitFor(() => names.every((name) => isRunning(`${tree}/${name}/log`)), "100 services");
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
  await waitFor(
    () => crashers.every(([who]) => times(who).length >= cycles * 2 + 1),
    "crash cycles",
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
    await waitFor(() => isRunning(dir) && isRunning(`${dir}/log`), "memory service");
    await new Promise((resolve) => setTimeout(resolve, 500));
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
