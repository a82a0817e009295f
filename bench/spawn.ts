/**
 * Spawn benchmark, ours against Debian's runit in one run (not a test):
 * crash-to-restart latency under `runsvdir -P` (where ours starts each
 * service through the session helper), as bench/core.ts measures it for
 * runsv: a service that exits every 1.5 s, the time from its exit to its
 * next start, median. Ours without -P (plain posix_spawn) is shown too.
 *
 * `deno task bench:spawn` (needs Debian's runit: apt-get install runit).
 *
 * @module
 */

import { install } from "../scripts/install.ts";
import { median, sleep } from "./common.ts";

const CYCLES = 8;

async function crasher(dir: string, times: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/run`,
    `#!/bin/sh\necho start $(date +%s%N) >> ${times}\nsleep 1.5\n` +
      `echo exit $(date +%s%N) >> ${times}\nexit 1\n`,
  );
  await Deno.chmod(`${dir}/run`, 0o755);
}

function lines(path: string): string[][] {
  try {
    return Deno.readTextFileSync(path).trim().split("\n").map((line) => line.split(" "));
  } catch {
    return [];
  }
}

/** Exit-to-next-start gaps in ms. */
function gaps(path: string): number[] {
  const rows = lines(path);
  const found: number[] = [];
  for (let i = 1; i < rows.length; i++) {
    if (rows[i - 1][0] === "exit" && rows[i][0] === "start") {
      found.push((Number(rows[i][1]) - Number(rows[i - 1][1])) / 1e6);
    }
  }
  return found;
}

const root = await Deno.makeTempDir({ prefix: "runit-bench-spawn-" });
const bin = (await install(`${root}/prefix`)).replace(/\/runit$/, "");
const runs: Array<{ who: string; command: string; args: string[]; stop: Deno.Signal }> = [
  { who: "ours -P", command: `${bin}/runsvdir`, args: ["-P"], stop: "SIGTERM" },
  { who: "ours", command: `${bin}/runsvdir`, args: [], stop: "SIGTERM" },
  // Debian's runsvdir exits at once on TERM; on HUP it TERMs each runsv first.
  { who: "runit -P", command: "/usr/bin/runsvdir", args: ["-P"], stop: "SIGHUP" },
];
const started: Array<{ child: Deno.ChildProcess; stop: Deno.Signal }> = [];
try {
  for (const [index, run] of runs.entries()) {
    const svdir = `${root}/service-${index}`;
    await crasher(`${svdir}/crash`, `${root}/times-${index}`);
    const child = new Deno.Command(run.command, {
      args: [...run.args, svdir],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    started.push({ child, stop: run.stop });
  }
  const deadline = Date.now() + 60_000;
  while (runs.some((_, index) => gaps(`${root}/times-${index}`).length < CYCLES)) {
    if (Date.now() > deadline) throw new Error("timed out waiting for crash cycles");
    await sleep(100);
  }
  const latency = runs.map((_, index) => median(gaps(`${root}/times-${index}`)));
  const runit = latency[runs.length - 1];
  console.log(["what", "median exit-to-start", "vs runit -P"].join(" | "));
  console.log("--- | --- | ---");
  for (const [index, run] of runs.entries()) {
    console.log(
      `crash-to-restart, runsvdir ${run.who} (median of ${CYCLES}) | ` +
        `${latency[index].toFixed(1)} ms | ${(latency[index] / runit).toFixed(2)}x`,
    );
  }
} finally {
  for (const { child, stop } of started) {
    try {
      child.kill(stop);
    } catch {
      // Gone.
    }
  }
  await Promise.all(started.map(({ child }) => child.status));
  await Deno.remove(root, { recursive: true });
}
