/**
 * Hosted logging side by side with Debian's runit, in one run:
 *
 * - memory: PSS of supervision plus loggers (services excluded) for trees of
 *   50 and 200 services, each with `log/run` = `exec svlogd -tt ./main`
 *   (ours: runsvdir, which hosts every svlogd, plus the 50/200 log
 *   placeholders; runit: runsvdir, the runsv processes and the svlogd
 *   processes), and the cost per added logged service, (PSS@200 - PSS@50) / 150;
 * - throughput of one logger, `-tt`, 200 MB of 100-byte lines written by
 *   `cat` as fast as the logger takes them (ours hosted by our runsv, runit's
 *   svlogd under runit's runsv);
 * - crash-to-restart latency of an idle service (KILLed, until its `./run`
 *   has started again), median of 10, with the tree idle and while 10 other
 *   services each write 20 MB/s through their loggers; and what each
 *   flooding logger kept up with.
 *
 * Run: deno run --allow-all bench/loghost.ts [--skip-memory | --memory-only] [--megabytes 200]
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
  supervisedPid,
  waitUntil,
  writeScript,
} from "./common.ts";

const RUNIT = "/usr/bin";
const COUNTS = [50, 200];
const TRIALS = 10;
const FLOODERS = 10;
/** Bytes per second each flooding service writes. */
const FLOOD_RATE = 20 * 1024 * 1024;

function pss(pid: number): number {
  return procFields(`/proc/${pid}/smaps_rollup`)("Pss");
}

/** Whether `dir/log` runs its logger (ours: handed over, the placeholder). */
function logging(dir: string, ours: boolean): boolean {
  const pid = supervisedPid(`${dir}/log`);
  if (pid === 0 || read(`${dir}/log/supervise/stat`) !== "run\n") return false;
  return !ours || read(`/proc/${pid}/comm`) === "svlogd\n";
}

interface Tree {
  dirs: string[];
  child: Deno.ChildProcess;
  /** pids of supervision and loggers. */
  pids(): number[];
  stop(): Promise<void>;
}

function startTree(label: string, bin: string, dir: string, dirs: string[]): Tree {
  const ours = label === "ours";
  const child = spawnQuiet(ours ? `${bin}/runsvdir` : `${RUNIT}/runsvdir`, [dir]);
  const loggers = () =>
    dirs.map((service) => supervisedPid(`${service}/log`)).filter((pid) => pid > 0);
  return {
    dirs,
    child,
    pids: () =>
      ours ? [child.pid, ...loggers()] : [child.pid, ...childrenOf(child.pid), ...loggers()],
    async stop() {
      const runsvs = ours ? [] : childrenOf(child.pid);
      const logs = loggers();
      child.kill("SIGTERM");
      await child.status;
      for (const pid of runsvs) Deno.kill(pid, "SIGTERM");
      await waitUntil(
        () => [...runsvs, ...logs].every((pid) => !alive(pid)),
        `${label}: the tree to stop`,
        { timeoutMs: 30_000, intervalMs: 20 },
      );
    },
  };
}

async function makeTree(
  dir: string,
  count: number,
  options: { svlogd: string; run?: (index: number) => string; config?: string },
): Promise<string[]> {
  const dirs: string[] = [];
  for (let i = 0; i < count; i++) {
    const service = `${dir}/s${String(i).padStart(3, "0")}`;
    await writeScript(`${service}/run`, options.run?.(i) ?? "echo started\nexec sleep 1000");
    await writeScript(`${service}/log/run`, `exec ${options.svlogd} -tt ./main`);
    await Deno.mkdir(`${service}/log/main`);
    if (options.config) await Deno.writeTextFile(`${service}/log/main/config`, options.config);
    dirs.push(service);
  }
  return dirs;
}

function svlogdOf(label: string, bin: string): string {
  return label === "ours" ? `${bin}/svlogd` : `${RUNIT}/svlogd`;
}

async function measureMemory(bin: string, root: string): Promise<void> {
  console.log("memory, supervision plus loggers (services excluded), PSS:");
  const sizes: Record<string, Record<number, number>> = { ours: {}, runit: {} };
  for (const count of COUNTS) {
    for (const label of ["ours", "runit"]) {
      const dir = `${root}/mem-${label}-${count}`;
      const dirs = await makeTree(dir, count, { svlogd: svlogdOf(label, bin) });
      const tree = startTree(label, bin, dir, dirs);
      try {
        await waitUntil(
          () => dirs.every((service) => logging(service, label === "ours")),
          `${label}: ${count} logged services`,
          { timeoutMs: 180_000, intervalMs: 20 },
        );
        await waitUntil(
          () => dirs.every((service) => read(`${service}/log/main/current`) !== ""),
          `${label}: ${count} first lines`,
          { timeoutMs: 60_000, intervalMs: 20 },
        );
        // The lowest of several samples: V8 collects garbage when it likes.
        let lowest = Infinity;
        for (let sample = 0; sample < 10; sample++) {
          await sleep(500);
          lowest = Math.min(lowest, tree.pids().map(pss).reduce((a, b) => a + b, 0));
        }
        sizes[label][count] = lowest;
      } finally {
        await tree.stop();
      }
      await Deno.remove(dir, { recursive: true });
    }
    const [ours, runit] = [sizes.ours[count], sizes.runit[count]];
    console.log(
      `  ${String(count).padStart(3)} logged services: ours ${(ours / 1024).toFixed(1)} MB, ` +
        `runit ${(runit / 1024).toFixed(1)} MB, ratio ${ratio(ours, runit)}`,
    );
  }
  // The floor under any Deno program: an idle empty one, alone as runsvdir was, sampled the same
  // way. PSS charges it the deno binary's pages it touched (~23 MB) when no other Deno runs.
  const idleScript = `${root}/idle.ts`;
  await Deno.writeTextFile(idleScript, "setInterval(() => {}, 1e9);\n");
  const idle = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", idleScript],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let floor = Infinity;
  try {
    for (let sample = 0; sample < 10; sample++) {
      await sleep(500);
      floor = Math.min(floor, pss(idle.pid) || Infinity);
    }
  } finally {
    idle.kill("SIGKILL");
    await idle.status;
  }
  console.log(`  an idle empty Deno process alone: ${(floor / 1024).toFixed(1)} MB (the floor)`);
  const [low, high] = COUNTS;
  const marginal = (label: string) => (sizes[label][high] - sizes[label][low]) / (high - low);
  console.log(
    `  per added logged service (PSS@${high} - PSS@${low}) / ${high - low}: ` +
      `ours ${marginal("ours").toFixed(1)} KB, runit ${marginal("runit").toFixed(1)} KB`,
  );
}

/** One logger's throughput: MB/s of input taken, `cat` of `input` into it. */
async function throughput(
  label: string,
  bin: string,
  options: { root: string; input: string; bytes: number; lines: number },
): Promise<number> {
  const dir = `${options.root}/tp-${label}`;
  const service = `${dir}/svc`;
  await writeScript(`${service}/run`, `cat ${options.input}\nexec sleep 1000`);
  await Deno.writeTextFile(`${service}/down`, "");
  await writeScript(`${service}/log/run`, `exec ${svlogdOf(label, bin)} -tt ./main`);
  await Deno.mkdir(`${service}/log/main`);
  await Deno.writeTextFile(`${service}/log/main/config`, "s50000000\nn100\n");
  const runsv = spawnQuiet(label === "ours" ? `${bin}/runsv` : `${RUNIT}/runsv`, [service]);
  try {
    await waitUntil(() => logging(service, label === "ours"), `${label}: the logger`, {
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    // -tt adds 26 bytes to each line.
    const expected = options.bytes + options.lines * 26;
    const logged = () => {
      let sum = 0;
      for (const entry of Deno.readDirSync(`${service}/log/main`)) {
        if (entry.name === "current" || entry.name.startsWith("@")) {
          sum += Deno.statSync(`${service}/log/main/${entry.name}`).size;
        }
      }
      return sum;
    };
    const control = Deno.openSync(`${service}/supervise/control`, { write: true });
    const started = performance.now();
    control.writeSync(new TextEncoder().encode("u"));
    control.close();
    await waitUntil(() => logged() >= expected, `${label}: the input logged`, {
      timeoutMs: 300_000,
      intervalMs: 20,
    });
    const seconds = (performance.now() - started) / 1000;
    return options.bytes / 1024 / 1024 / seconds;
  } finally {
    runsv.kill("SIGTERM");
    await runsv.status;
    const log = supervisedPid(`${service}/log`);
    if (log > 0 && alive(log)) Deno.kill(log, "SIGTERM");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A service writing FLOOD_RATE bytes per second of 100-byte lines. */
const FLOODER = "exec perl -MTime::HiRes=time,sleep -e '" +
  '$| = 1; my $line = ("x" x 99) . "\\n"; my $chunk = $line x 1024; my $t = time; ' +
  `while (1) { for (1..${Math.round(FLOOD_RATE / 102400 / 20)}) { print $chunk } ` +
  "$t += 0.05; my $d = $t - time; sleep($d) if $d > 0 }'";

/** Crash-to-restart latencies (ms) of the victim service. */
async function crashLatencies(victim: string): Promise<number[]> {
  const found: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    // runsv waits a second before restarting a service that ran less than one.
    await sleep(1100);
    const pid = supervisedPid(victim);
    Deno.writeTextFileSync(`${victim}/started`, "");
    const killed = BigInt(Date.now()) * 1_000_000n;
    Deno.kill(pid, "SIGKILL");
    await waitUntil(() => read(`${victim}/started`).endsWith("\n"), "the restart", {
      timeoutMs: 20_000,
      intervalMs: 20,
    });
    found.push(Number(BigInt(read(`${victim}/started`).trim()) - killed) / 1e6);
  }
  return found;
}

async function measureLatency(bin: string, root: string): Promise<void> {
  console.log(
    `crash-to-restart latency of an idle service, median of ${TRIALS}, idle and with ` +
      `${FLOODERS} services writing ${FLOOD_RATE / 1024 / 1024} MB/s each through their loggers:`,
  );
  for (const label of ["ours", "runit"]) {
    const dir = `${root}/lat-${label}`;
    const dirs = await makeTree(dir, FLOODERS + 1, {
      svlogd: svlogdOf(label, bin),
      run: (i) => i === 0 ? "date +%s%N > started\nexec sleep 1000" : FLOODER,
      // n0 keeps every rotated file, so that what was logged can be counted.
      config: "s50000000\nn0\n",
    });
    const [victim, ...flooders] = dirs;
    for (const service of flooders) await Deno.writeTextFile(`${service}/down`, "");
    const tree = startTree(label, bin, dir, dirs);
    try {
      await waitUntil(
        () => dirs.every((service) => logging(service, label === "ours")),
        `${label}: loggers`,
        { timeoutMs: 120_000, intervalMs: 20 },
      );
      await waitUntil(() => read(`${victim}/started`).endsWith("\n"), "the victim", {
        timeoutMs: 20_000,
        intervalMs: 20,
      });
      const idle = await crashLatencies(victim);
      for (const service of flooders) {
        Deno.writeTextFileSync(`${service}/supervise/control`, "u", { append: true });
      }
      await sleep(2000);
      const size = (service: string) => {
        let sum = 0;
        for (const entry of Deno.readDirSync(`${service}/log/main`)) {
          sum += Deno.statSync(`${service}/log/main/${entry.name}`).size;
        }
        return sum;
      };
      // Bytes logged per flooder over the window.
      const windowStart = performance.now();
      const written0 = flooders.map(size);
      const flooded = await crashLatencies(victim);
      const seconds = (performance.now() - windowStart) / 1000;
      const rates = flooders.map((service, i) => (size(service) - written0[i]) / seconds);
      const slowest = Math.min(...rates) / 1024 / 1024;
      console.log(
        `  ${label}: idle ${median(idle).toFixed(1)} ms (max ${Math.max(...idle).toFixed(1)}), ` +
          `under flood ${median(flooded).toFixed(1)} ms (max ${
            Math.max(...flooded).toFixed(1)
          }), ratio ${ratio(median(flooded), median(idle))}; ` +
          `slowest flooder logged ${slowest.toFixed(1)} MB/s`,
      );
    } finally {
      await tree.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}

async function main(): Promise<void> {
  const at = Deno.args.indexOf("--megabytes");
  const megabytes = at >= 0 ? Number(Deno.args[at + 1]) : 200;
  for (const program of ["runsvdir", "runsv", "svlogd"]) {
    try {
      Deno.statSync(`${RUNIT}/${program}`);
    } catch {
      console.error(`bench: ${RUNIT}/${program} is needed (Debian's runit)`);
      Deno.exit(1);
    }
  }
  const root = await Deno.makeTempDir({ prefix: "loghost-bench-" });
  const bin = `${root}/prefix/bin`;
  await install(`${root}/prefix`);
  try {
    if (!Deno.args.includes("--skip-memory")) await measureMemory(bin, root);
    if (Deno.args.includes("--memory-only")) return;

    const line = `${"y".repeat(99)}\n`;
    const lines = Math.floor(megabytes * 1024 * 1024 / line.length);
    const input = `${root}/input`;
    const block = line.repeat(10_000);
    const file = await Deno.open(input, { write: true, create: true });
    for (let done = 0; done < lines; done += 10_000) {
      await file.write(
        new TextEncoder().encode(done + 10_000 <= lines ? block : line.repeat(lines - done)),
      );
    }
    file.close();
    const bytes = lines * line.length;
    const rates: Record<string, number> = {};
    for (const label of ["ours", "runit"]) {
      rates[label] = await throughput(label, bin, { root, input, bytes, lines });
    }
    console.log(
      `throughput of one logger, -tt, ${megabytes} MB of 100-byte lines: ` +
        `ours (hosted) ${rates.ours.toFixed(1)} MB/s, runit ${rates.runit.toFixed(1)} MB/s, ` +
        `ratio ${ratio(rates.ours, rates.runit)}`,
    );
    await Deno.remove(input);

    await measureLatency(bin, root);
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
