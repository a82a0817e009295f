/**
 * Soak, ours against Debian's runit in one run (not a test): two trees of 50
 * services each (ours under our runsvdir, runit's under its runsvdir), every
 * service exiting after 0.2-0.5 s (runsv's one-second pause then paces the
 * restarts), every fifth with a `./finish`, every fifth with a logger
 * (`svlogd -tt ./main`: hosted, for ours), for `--seconds` (600).
 *
 * Every 30 s it records, for each side's supervision processes (ours: the
 * one runsvdir; runit: runsvdir, every runsv and svlogd), RSS, open
 * descriptors and threads, and prints them; at the end the least-squares
 * slope of each per minute, and the RSS slope and range after a warm-up of
 * {@link WARMUP_MINUTES} (ours rises for its first minutes while V8's heap
 * limit settles, then saws up and down: see bench/heap.ts). Every 100 ms it
 * lists the zombies whose parent is a supervision process and keeps the age
 * of the oldest seen. `--ours-only` runs our side alone.
 *
 * Run: deno task bench:soak [--seconds 600] [--ours-only]
 *
 * @module
 */

import { install } from "../scripts/install.ts";
import {
  killLeftUnder,
  makeSoakTree,
  procFields,
  read,
  sleep,
  slope,
  SOAK_SERVICES,
} from "./common.ts";

const SAMPLE_MS = 30_000;
const ZOMBIE_POLL_MS = 100;
/** Samples before this minute are left out of the steady-state RSS figures. */
const WARMUP_MINUTES = 5;

/** pid, parent, state and process name from /proc/PID/stat. */
function statOf(pid: number): { ppid: number; state: string; name: string } | undefined {
  const text = read(`/proc/${pid}/stat`);
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(" ");
  return {
    ppid: Number(fields[1]),
    state: fields[0],
    name: text.slice(text.indexOf("(") + 1, close),
  };
}

function allPids(): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (Number.isInteger(pid)) pids.push(pid);
  }
  return pids;
}

interface Side {
  label: string;
  root: number;
  child: Deno.ChildProcess;
  samples: Array<{ minute: number; rss: number; fds: number; threads: number }>;
  oldestZombieMs: number;
  zombieSeen: Map<number, number>;
}

/** runsvdir and, for runit, its runsv and svlogd processes. */
function supervision(side: Side): number[] {
  if (side.label === "ours") return [side.root];
  const table = allPids().map((pid) => ({ pid, stat: statOf(pid) }));
  const runsvs = table.filter((row) => row.stat?.ppid === side.root).map((row) => row.pid);
  const loggers = table.filter((row) =>
    row.stat?.name === "svlogd" && runsvs.includes(row.stat.ppid)
  ).map((row) => row.pid);
  return [side.root, ...runsvs, ...loggers];
}

function sample(side: Side, minute: number): void {
  let rss = 0;
  let fds = 0;
  let threads = 0;
  for (const pid of supervision(side)) {
    const status = procFields(`/proc/${pid}/status`);
    rss += status("VmRSS");
    threads += status("Threads");
    try {
      fds += [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
    } catch {
      // Gone between the listing and now.
    }
  }
  side.samples.push({ minute, rss, fds, threads });
}

function watchZombies(sides: Side[]): void {
  const now = performance.now();
  const parents = new Map<number, Side>();
  for (const side of sides) for (const pid of supervision(side)) parents.set(pid, side);
  const current = new Set<number>();
  for (const pid of allPids()) {
    const stat = statOf(pid);
    const side = stat && parents.get(stat.ppid);
    if (!side || stat.state !== "Z") continue;
    current.add(pid);
    const first = side.zombieSeen.get(pid) ?? now;
    side.zombieSeen.set(pid, first);
    side.oldestZombieMs = Math.max(side.oldestZombieMs, now - first);
  }
  for (const side of sides) {
    for (const pid of side.zombieSeen.keys()) if (!current.has(pid)) side.zombieSeen.delete(pid);
  }
}

const secondsArg = Deno.args.indexOf("--seconds");
const seconds = secondsArg >= 0 ? Number(Deno.args[secondsArg + 1]) : 600;
const oursOnly = Deno.args.includes("--ours-only");
const root = await Deno.makeTempDir({ prefix: "runit-bench-soak-" });
const sides: Side[] = [];
try {
  await Deno.chmod(root, 0o755);
  await install(`${root}/prefix`);
  const bin = `${root}/prefix/bin`;
  for (
    const [label, runsvdir, svlogd] of [
      ["ours", `${bin}/runsvdir`, `${bin}/svlogd`],
      ["runit", "/usr/bin/runsvdir", "/usr/bin/svlogd"],
    ].slice(0, oursOnly ? 1 : 2)
  ) {
    await makeSoakTree(`${root}/${label}`, svlogd);
    const child = new Deno.Command(runsvdir, {
      args: [`${root}/${label}`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    sides.push({
      label,
      root: child.pid,
      child,
      samples: [],
      oldestZombieMs: 0,
      zombieSeen: new Map(),
    });
  }
  const started = performance.now();
  let nextSample = started + 5000; // let both trees start first
  console.log(
    `soak: ${SOAK_SERVICES} services ${oursOnly ? "(ours only)" : "a side"} for ${seconds} s; ` +
      "samples every 30 s",
  );
  console.log("minute | side | RSS kB | fds | threads");
  while (performance.now() - started < seconds * 1000) {
    watchZombies(sides);
    if (performance.now() >= nextSample) {
      const minute = (performance.now() - started) / 60_000;
      for (const side of sides) {
        sample(side, minute);
        const last = side.samples.at(-1)!;
        console.log(
          `${minute.toFixed(1)} | ${side.label} | ${last.rss} | ${last.fds} | ${last.threads}`,
        );
      }
      nextSample += SAMPLE_MS;
    }
    await sleep(ZOMBIE_POLL_MS);
  }
  console.log("\nside | RSS slope kB/min | fds slope /min | threads slope /min | oldest zombie");
  for (const side of sides) {
    const xs = side.samples.map((s) => s.minute);
    console.log(
      `${side.label} | ${slope(xs, side.samples.map((s) => s.rss)).toFixed(1)} | ` +
        `${slope(xs, side.samples.map((s) => s.fds)).toFixed(2)} | ` +
        `${slope(xs, side.samples.map((s) => s.threads)).toFixed(2)} | ` +
        `${side.oldestZombieMs.toFixed(0)} ms`,
    );
  }
  console.log(`\nafter minute ${WARMUP_MINUTES}: side | RSS slope kB/min | RSS min-max kB`);
  for (const side of sides) {
    const steady = side.samples.filter((s) => s.minute >= WARMUP_MINUTES);
    if (steady.length < 3) continue;
    const rss = steady.map((s) => s.rss);
    console.log(
      `${side.label} | ${slope(steady.map((s) => s.minute), rss).toFixed(1)} | ` +
        `${Math.min(...rss)}-${Math.max(...rss)}`,
    );
  }
} finally {
  for (const side of sides) {
    // runit's runsvdir leaves its runsv running on TERM; HUP takes them down (and ours too).
    try {
      side.child.kill("SIGHUP");
    } catch {
      // Gone.
    }
  }
  for (const side of sides) await side.child.status;
  // Give runit's runsv processes their services' exits.
  await killLeftUnder(root, { waitMs: 10_000 });
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
