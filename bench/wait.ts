/**
 * How soon `sv -w` notices the change it waits for, ours against Debian's
 * sv (which polls every 420 ms), both driving the same Debian runsv.
 *
 * Each round runs `sv -w 7 down svc` on a service that takes a varying
 * 150-500 ms to stop after TERM (so the change falls at a different phase
 * of any poll). The bench reads `supervise/status` every millisecond or so
 * and records when it first says down; the reaction is sv's exit minus that
 * moment (so it includes up to ~1 ms of the bench's own polling). The service is then brought up again for the next round.
 *
 * Run: deno run --allow-all bench/wait.ts (needs Debian's runit).
 *
 * @module
 */

import { install } from "../scripts/install.ts";
import { median, read, sleep, waitUntil } from "./common.ts";

const RUNIT = "/usr/bin";
const ROUNDS = 8;

/** The state byte of supervise/status: 0 down, 1 run, 2 finish; -1 unreadable. */
function state(dir: string): number {
  try {
    const bytes = Deno.readFileSync(`${dir}/supervise/status`);
    return bytes.length === 20 ? bytes[19] : -1;
  } catch {
    return -1;
  }
}

/** Reaction times in ms of `sv -w 7 down` run as `sv` against the service in `dir`. */
async function reactions(sv: string, dir: string): Promise<number[]> {
  const result: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await Deno.writeTextFile(`${dir}/delay`, `0.${150 + round * 47}\n`);
    const up = new Deno.Command(`${RUNIT}/sv`, { args: ["up", dir], stdout: "null" }).outputSync();
    if (!up.success) throw new Error(`sv up ${dir} failed`);
    await waitUntil(() => state(dir) === 1 && read(`${dir}/started`) !== "", "the service to run", {
      timeoutMs: 10_000,
    });
    await Deno.remove(`${dir}/started`);
    const child = new Deno.Command(sv, {
      args: ["-w", "7", "down", dir],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = 0;
    const status = child.status.then((status) => {
      exited = performance.now();
      return status;
    });
    // The moment status says down, looked for every millisecond or so.
    let down = 0;
    while (exited === 0) {
      if (down === 0 && state(dir) === 0) down = performance.now();
      await sleep(1);
    }
    if (!(await status).success || down === 0) throw new Error(`${sv} -w 7 down: not down`);
    result.push(exited - down);
  }
  return result;
}
async function main(): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "runit-wait-" });
  const dir = `${root}/svc`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(
    `${dir}/run`,
    "#!/bin/sh\ntrap 'kill $!; sleep $(cat delay); exit 0' TERM\n" +
      "sleep 1000 & echo $$ > started\nwait\n",
    { mode: 0o755 },
  );
  await install(`${root}/prefix`);
  const runsv = new Deno.Command(`${RUNIT}/runsv`, {
    args: [dir],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // sv needs runsv's supervise/ok: until then `sv up` fails.
    await waitUntil(() => read(`${dir}/supervise/stat`) !== "", "runsv to supervise");
    const rows: [string, number[]][] = [
      ["ours (inotify + 100 ms net)", await reactions(`${root}/prefix/bin/sv`, dir)],
      ["Debian's sv (420 ms poll)", await reactions(`${RUNIT}/sv`, dir)],
    ];
    console.log(`sv -w 7 down: ms from status saying down to sv's exit, ${ROUNDS} rounds`);
    for (const [name, values] of rows) {
      const max = Math.max(...values);
      console.log(
        `  ${name.padEnd(28)} median ${median(values).toFixed(1).padStart(6)}  max ${
          max.toFixed(1).padStart(6)
        }`,
      );
    }
    console.log(
      `  ratio (Debian / ours, medians): ${(median(rows[1][1]) / median(rows[0][1])).toFixed(1)}`,
    );
  } finally {
    runsv.kill("SIGTERM");
    await runsv.status;
    await Deno.remove(root, { recursive: true });
  }
}

if (import.meta.main) await main();
