/**
 * runsvdir side by side with Debian's runit, in one run:
 *
 * - memory: PSS of every supervision process together (ours: the one
 *   runsvdir process; runit: runsvdir plus one runsv per service; service
 *   payloads excluded) at 10, 100 and 500 services with a trivial `run`, and
 *   the marginal cost per service, (PSS@500 - PSS@10) / 490;
 * - latency from `mv newservice dir/` to its `./run` starting, median of 20
 *   (ours includes the 50 ms a new entry must stay unchanged before it starts);
 * - CPU time of the supervision processes over an idle window with 100
 *   services (both measured over the same window, side by side).
 *
 * Run: deno run --allow-all bench/runsvdir.ts [--cpu-seconds 20]
 * (--allow-all because Deno 2.9 refuses /proc to anything less; the CPU
 * window is 20 s rather than 60 s to keep a run under two minutes.)
 *
 * @module
 */

import { install } from "../scripts/install.ts";
import {
  alive,
  childrenOf,
  median,
  procFields,
  ratio,
  read,
  sleep,
  spawnQuiet,
  waitUntil,
  writeScript,
} from "./common.ts";

const RUNIT_RUNSVDIR = "/usr/bin/runsvdir";
const COUNTS = [10, 100, 500];
const LATENCY_TRIALS = 20;

interface Tree {
  label: string;
  dir: string;
  child: Deno.ChildProcess;
  /** pids of the supervision processes (runsvdir, and runit's runsv). */
  supervisors(): number[];
  stop(): Promise<void>;
}

/** Proportional and unique (private) set size in KB. */
function memory(pid: number): { pss: number; uss: number } {
  const field = procFields(`/proc/${pid}/smaps_rollup`);
  return { pss: field("Pss"), uss: field("Private_Clean") + field("Private_Dirty") };
}

/**
 * CPU time (ns) of each live thread of `pid`, by thread id (schedstat).
 * Per thread, so that a thread exiting during the window (its time leaves
 * the sum) does not make a difference negative.
 */
function threadTimes(pid: number): Map<string, number> {
  const times = new Map<string, number>();
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const ns = Number(read(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0] || 0);
      times.set(`${pid}/${task.name}`, ns);
    }
  } catch {
    // Gone.
  }
  return times;
}

/** ms of CPU between two snapshots: threads in both, plus threads that are new. */
function cpuBetween(before: Map<string, number>, after: Map<string, number>): number {
  let ns = 0;
  for (const [tid, time] of after) ns += time - (before.get(tid) ?? 0);
  return ns / 1e6;
}

function snapshot(pids: number[]): Map<string, number> {
  return new Map(pids.flatMap((pid) => [...threadTimes(pid)]));
}

async function makeTree(dir: string, count: number): Promise<string[]> {
  const dirs: string[] = [];
  for (let i = 0; i < count; i++) {
    const service = `${dir}/s${String(i).padStart(3, "0")}`;
    await writeScript(`${service}/run`, "exec sleep 1000");
    dirs.push(service);
  }
  return dirs;
}

function running(dirs: string[]): boolean {
  return dirs.every((dir) => read(`${dir}/supervise/stat`) === "run\n");
}

function startOurs(bin: string, dir: string): Tree {
  const child = spawnQuiet(`${bin}/runsvdir`, [dir]);
  return {
    label: "ours",
    dir,
    child,
    supervisors: () => [child.pid],
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

function startRunit(dir: string): Tree {
  const child = spawnQuiet(RUNIT_RUNSVDIR, [dir]);
  const supervisors = () => [child.pid, ...childrenOf(child.pid)];
  return {
    label: "runit",
    dir,
    child,
    supervisors,
    async stop() {
      const runsvs = childrenOf(child.pid);
      child.kill("SIGTERM");
      await child.status;
      // runit's runsv processes outlive runsvdir: TERM (= exit) each.
      for (const pid of runsvs) Deno.kill(pid, "SIGTERM");
      await waitUntil(() => runsvs.every((pid) => !alive(pid)), "runsv to exit", {
        timeoutMs: 20_000,
        intervalMs: 20,
      });
    },
  };
}

type Sizes = Record<string, Record<number, { pss: number; uss: number }>>;

async function measureMemory(bin: string, root: string): Promise<Sizes> {
  const result: Sizes = { ours: {}, runit: {} };
  for (const count of COUNTS) {
    for (const label of ["ours", "runit"]) {
      const dir = `${root}/mem-${label}-${count}`;
      const dirs = await makeTree(dir, count);
      const tree = label === "ours" ? startOurs(bin, dir) : startRunit(dir);
      try {
        await waitUntil(() => running(dirs), `${label}: ${count} services`, {
          timeoutMs: 60_000,
          intervalMs: 20,
        });
        // The lowest of several samples: V8 collects start-up garbage lazily.
        let lowest = { pss: Infinity, uss: Infinity };
        for (let sample = 0; sample < 5; sample++) {
          await sleep(300);
          const total = tree.supervisors().map(memory).reduce(
            (sum, one) => ({ pss: sum.pss + one.pss, uss: sum.uss + one.uss }),
            { pss: 0, uss: 0 },
          );
          if (total.pss < lowest.pss) lowest = total;
        }
        result[label][count] = lowest;
      } finally {
        await tree.stop();
      }
      await Deno.remove(dir, { recursive: true });
    }
  }
  return result;
}

async function measureCpu(trees: Tree[], seconds: number): Promise<number[]> {
  const before = trees.map((tree) => snapshot(tree.supervisors()));
  await sleep(seconds * 1000);
  return trees.map((tree, i) => cpuBetween(before[i], snapshot(tree.supervisors())));
}

/** mv a prepared service in; ms until its ./run has written its start time. */
async function latencies(tree: Tree, root: string): Promise<number[]> {
  const found: number[] = [];
  for (let i = 0; i < LATENCY_TRIALS; i++) {
    const name = `new${i}`;
    const staging = `${root}/stage-${tree.label}/${name}`;
    await writeScript(`${staging}/run`, "date +%s%N > started\nexec sleep 1000");
    const before = BigInt(Date.now()) * 1_000_000n;
    await Deno.rename(staging, `${tree.dir}/${name}`);
    const marker = `${tree.dir}/${name}/started`;
    await waitUntil(() => read(marker).endsWith("\n"), `${tree.label} ${name}`, {
      timeoutMs: 20_000,
      intervalMs: 20,
    });
    found.push(Number(BigInt(read(marker).trim()) - before) / 1e6);
  }
  return found;
}

async function main(): Promise<void> {
  const at = Deno.args.indexOf("--cpu-seconds");
  const cpuSeconds = at >= 0 ? Number(Deno.args[at + 1]) : 20;
  try {
    Deno.statSync(RUNIT_RUNSVDIR);
  } catch {
    console.error(`bench: ${RUNIT_RUNSVDIR} is needed (Debian's runit)`);
    Deno.exit(1);
  }
  const root = await Deno.makeTempDir({ prefix: "runsvdir-bench-" });
  const bin = `${root}/prefix/bin`;
  await install(`${root}/prefix`);
  try {
    console.log("memory of the supervision processes (payloads excluded), PSS and USS:");
    const sizes = await measureMemory(bin, root);
    for (const count of COUNTS) {
      const [ours, runit] = [sizes.ours[count], sizes.runit[count]];
      console.log(
        `  ${
          String(count).padStart(3)
        } services: PSS ours ${ours.pss} KB, runit ${runit.pss} KB, ` +
          `ratio ${ratio(ours.pss, runit.pss)}; USS ours ${ours.uss} KB, runit ${runit.uss} KB`,
      );
    }
    for (const kind of ["pss", "uss"] as const) {
      const marginal = (label: string) => (sizes[label][500][kind] - sizes[label][10][kind]) / 490;
      console.log(
        `  per added service (${kind.toUpperCase()}@500 - ${kind.toUpperCase()}@10) / 490: ` +
          `ours ${marginal("ours").toFixed(1)} KB, runit ${marginal("runit").toFixed(1)} KB, ` +
          `ratio ${ratio(marginal("ours"), marginal("runit"))}`,
      );
    }
    console.log(
      "  (ours' PSS moves by a few MB with how many other deno processes share its text pages)",
    );

    const trees: Tree[] = [];
    for (const label of ["ours", "runit"]) {
      const dir = `${root}/idle-${label}`;
      const dirs = await makeTree(dir, 100);
      const tree = label === "ours" ? startOurs(bin, dir) : startRunit(dir);
      trees.push(tree);
      await waitUntil(() => running(dirs), `${label}: 100 services`, {
        timeoutMs: 60_000,
        intervalMs: 20,
      });
    }
    try {
      await sleep(1000);
      const [ours, runit] = await measureCpu(trees, cpuSeconds);
      console.log(
        `cpu: ${cpuSeconds} s idle with 100 services (both at once, schedstat): ` +
          `ours ${ours.toFixed(2)} ms, runit ${runit.toFixed(2)} ms, ratio ${ratio(ours, runit)}`,
      );
      const [oursLatency, runitLatency] = await Promise.all(
        trees.map((tree) => latencies(tree, root)),
      );
      console.log(
        `latency mv -> ./run, median of ${LATENCY_TRIALS}: ` +
          `ours ${median(oursLatency).toFixed(1)} ms ` +
          `(max ${Math.max(...oursLatency).toFixed(1)}), ` +
          `runit ${median(runitLatency).toFixed(1)} ms ` +
          `(max ${Math.max(...runitLatency).toFixed(1)}), ` +
          `ratio ${ratio(median(oursLatency), median(runitLatency))}`,
      );
    } finally {
      for (const tree of trees) await tree.stop();
    }
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
