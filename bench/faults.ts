/**
 * Two rows of issue 10's fault table as figures, ours against Debian's
 * runit in one run (functional tests assert the behaviour, not the speed):
 *
 * - control flood: mixed bytes (one in 512 a `u` or `c`) written into one
 *   service's `supervise/control` under `runsv`: MiB per second drained and
 *   the supervisor's peak RSS (runit gets 1 MiB: it reads a byte per call);
 * - zombies: 100 services that each run 1.2 s, so that they exit and restart
 *   together, under runsvdir for 10 s: zombies per sample (every ~2 ms), the
 *   most and the mean (runit's zombies are its runsv processes' children).
 *
 * Run: deno run --allow-all bench/faults.ts (needs Debian's runit).
 *
 * @module
 */

import { install } from "../scripts/install.ts";
import {
  childrenOf,
  isRunning,
  procFields,
  sleep,
  spawnQuiet,
  statFields,
  waitUntil,
  writeScript,
} from "./common.ts";

const RUNIT = "/usr/bin";

function rssKiB(pid: number): number {
  return procFields(`/proc/${pid}/status`)("VmRSS");
}

async function stop(child: Deno.ChildProcess, leftovers: () => number[]): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // Gone.
  }
  await child.status;
  // Debian's runsvdir leaves its runsv processes: they get TERM too (as `x`).
  for (const pid of leftovers()) {
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      // Gone.
    }
  }
}

async function flood(runsv: string, dir: string, mib: number) {
  await writeScript(`${dir}/run`, "exec sleep 1000");
  const child = spawnQuiet(runsv, [dir]);
  await waitUntil(() => isRunning(dir), "the service");
  const chunk = new Uint8Array(64 * 1024);
  const junk = new TextEncoder().encode("bfgjlmnrsvwyzBDUX \n\xff0789");
  for (let i = 0; i < chunk.length; i++) {
    chunk[i] = i % 512 === 0 ? ((i >> 9) & 1 ? 0x75 : 0x63) : junk[(i * 7) % junk.length];
  }
  let peak = rssKiB(child.pid);
  const fifo = await Deno.open(`${dir}/supervise/control`, { write: true });
  const started = performance.now();
  for (let written = 0; written < mib * 1024 * 1024; written += chunk.length) {
    for (let off = 0; off < chunk.length;) off += await fifo.write(chunk.subarray(off));
    peak = Math.max(peak, rssKiB(child.pid));
  }
  fifo.close();
  const seconds = (performance.now() - started) / 1000;
  await stop(child, () => []);
  return { perMiB: seconds / mib, peakMiB: peak / 1024 };
}

async function zombies(runsvdir: string, dir: string, grandchildren: boolean) {
  for (let i = 0; i < 100; i++) await writeScript(`${dir}/s${i}/run`, "exec sleep 1.2");
  const child = spawnQuiet(runsvdir, [dir]);
  await sleep(2000);
  let max = 0;
  let total = 0;
  let samples = 0;
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    const parents = grandchildren ? childrenOf(child.pid) : [child.pid];
    let count = 0;
    for (const parent of parents) {
      for (const pid of childrenOf(parent)) if (statFields(pid)[0] === "Z") count++;
    }
    max = Math.max(max, count);
    total += count;
    samples++;
    await sleep(2);
  }
  const supervisors = childrenOf(child.pid);
  await stop(child, () => grandchildren ? supervisors : []);
  return { max, mean: total / samples, samples };
}

const root = await Deno.makeTempDir({ prefix: "runit-bench-faults-" });
try {
  const bin = (await install(`${root}/prefix`)).replace(/\/[^/]+$/, "");
  const ours = await flood(`${bin}/runsv`, `${root}/flood-ours`, 16);
  const runit = await flood(`${RUNIT}/runsv`, `${root}/flood-runit`, 1);
  console.log("control flood, mixed bytes (1 in 512 `u`/`c`), one runsv:");
  console.log(
    `  ours : ${ours.perMiB.toFixed(2)} s/MiB (16 MiB), peak RSS ${ours.peakMiB.toFixed(1)} MiB`,
  );
  console.log(
    `  runit: ${runit.perMiB.toFixed(2)} s/MiB (1 MiB), peak RSS ${runit.peakMiB.toFixed(1)} MiB`,
  );
  console.log(`  time ratio ours/runit: ${(ours.perMiB / runit.perMiB).toFixed(2)}x`);
  const zOurs = await zombies(`${bin}/runsvdir`, `${root}/z-ours`, false);
  const zRunit = await zombies(`${RUNIT}/runsvdir`, `${root}/z-runit`, true);
  console.log("zombies, 100 services exiting together every 1.2 s, 10 s of samples:");
  for (const [name, z] of [["ours ", zOurs], ["runit", zRunit]] as const) {
    console.log(`  ${name}: max ${z.max}, mean ${z.mean.toFixed(3)} (${z.samples} samples)`);
  }
} finally {
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
