/**
 * The timings that functional tests no longer assert (a loaded 2-core
 * machine makes any bound there flaky), ours against Debian's runit in one
 * run where runit has the same operation:
 *
 * - runsv: the gap between two starts of a service that exits at once
 *   (runit pauses one second), median of 4;
 * - runsvdir HUP with 20 services: ms until every service process is gone;
 * - runsvdir TERM with a service that ignores TERM (ours, RUNSVDIR_TIMEOUT=1):
 *   ms until runsvdir exits, i.e. how soon after the timeout KILL comes;
 * - the reactor: ms to drain 600 FIFOs with one byte each (ours only).
 *
 * The latency from `mv` to `./run` is bench/runsvdir.ts's; crash-to-restart
 * after a longer run is bench/core.ts's.
 *
 * Run: deno run --allow-all bench/timing.ts (needs Debian's runit).
 *
 * @module
 */

import { install } from "../scripts/install.ts";
import { Reactor } from "../src/reactor/mod.ts";
import { AT_FDCWD, closeFd, makeFifoAt, O, openAt, readFd, writeFd } from "../src/sys/mod.ts";
import {
  alive,
  median,
  read,
  spawnQuiet,
  supervisedPid,
  waitUntil,
  writeScript,
} from "./common.ts";

const RUNIT = "/usr/bin";
const ROUNDS = 5;

/** Median gap in ms between consecutive starts of a service that exits at once. */
async function restartGap(bin: string, dir: string): Promise<number> {
  await writeScript(`${dir}/run`, "date +%s%N >> starts\nexit 1");
  const runsv = spawnQuiet(`${bin}/runsv`, [dir]);
  const starts = () => read(`${dir}/starts`).trim().split("\n").filter(Boolean).map(Number);
  try {
    await waitUntil(() => starts().length >= 5, "five starts", { intervalMs: 2 });
  } finally {
    runsv.kill("SIGTERM");
    await runsv.status;
  }
  const times = starts();
  return median(times.slice(1).map((time, i) => (time - times[i]) / 1e6));
}

/** ms from HUP on runsvdir until every one of `count` services is gone. */
async function hupDown(bin: string, dir: string, count: number): Promise<number> {
  const dirs: string[] = [];
  for (let i = 0; i < count; i++) {
    dirs.push(`${dir}/s${i}`);
    await writeScript(`${dir}/s${i}/run`, "exec sleep 1000");
  }
  const runsvdir = spawnQuiet(`${bin}/runsvdir`, [dir]);
  const pids = () => dirs.map(supervisedPid);
  await waitUntil(() => pids().every((pid) => pid > 0 && alive(pid)), `${count} services`, {
    intervalMs: 2,
  });
  const running = pids();
  const sent = performance.now();
  runsvdir.kill("SIGHUP");
  await waitUntil(() => running.every((pid) => !alive(pid)), "every service down", {
    intervalMs: 2,
  });
  const took = performance.now() - sent;
  await runsvdir.status;
  return took;
}

/** ms from TERM until our runsvdir exits, with a service that ignores TERM. */
async function termWithStubborn(bin: string, dir: string): Promise<number> {
  await writeScript(`${dir}/stubborn/run`, "trap '' TERM\nexec sleep 1000");
  const runsvdir = spawnQuiet(`${bin}/runsvdir`, [dir], { env: { RUNSVDIR_TIMEOUT: "1" } });
  await waitUntil(() => read(`${dir}/stubborn/supervise/stat`) === "run\n", "stubborn up", {
    intervalMs: 2,
  });
  const sent = performance.now();
  runsvdir.kill("SIGTERM");
  await runsvdir.status;
  return performance.now() - sent;
}

/** ms to drain 600 FIFOs with one byte each through one reactor. */
async function drain(dir: string): Promise<number> {
  const reactor = new Reactor();
  const fds: number[] = [];
  let seen = 0;
  for (let i = 0; i < 600; i++) {
    makeFifoAt(AT_FDCWD, `${dir}/fifo${i}`, 0o600);
    const fd = openAt(AT_FDCWD, `${dir}/fifo${i}`, { flags: O.RDWR | O.NONBLOCK | O.CLOEXEC });
    fds.push(fd);
    reactor.watch(fd, () => {
      while (readFd(fd, new Uint8Array(16)) > 0) seen++;
    });
  }
  const running = reactor.run();
  try {
    const started = performance.now();
    for (const fd of fds) writeFd(fd, new Uint8Array([0x75]));
    await waitUntil(() => seen === 600, "every FIFO to be read", { intervalMs: 2 });
    return performance.now() - started;
  } finally {
    reactor.stop();
    await running;
    for (const fd of fds) {
      reactor.unwatch(fd);
      closeFd(fd);
    }
    reactor.close();
  }
}

function row(what: string, ours: number, runit?: number): string {
  const theirs = runit === undefined ? "-" : `${runit.toFixed(1)} ms`;
  const ratio = runit === undefined ? "-" : `${(ours / runit).toFixed(2)}x`;
  return [what, `${ours.toFixed(1)} ms`, theirs, ratio].join(" | ");
}

async function main(): Promise<void> {
  try {
    Deno.statSync(`${RUNIT}/runsvdir`);
  } catch {
    console.error(`bench: ${RUNIT}/runsvdir is needed (Debian's runit)`);
    Deno.exit(1);
  }
  const root = await Deno.makeTempDir({ prefix: "runit-timing-" });
  try {
    await install(`${root}/prefix`);
    const ours = `${root}/prefix/bin`;
    const rows: string[] = [];
    const gaps = await Promise.all(
      [ours, RUNIT].map((bin, i) => restartGap(bin, `${root}/gap${i}`)),
    );
    rows.push(row("runsv restart gap after an instant exit (median)", gaps[0], gaps[1]));
    const hup: number[][] = [[], []];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, bin] of [ours, RUNIT].entries()) {
        hup[i].push(await hupDown(bin, `${root}/hup${i}-${round}`, 20));
      }
    }
    rows.push(
      row(
        `runsvdir HUP, 20 services all down (median of ${ROUNDS})`,
        median(hup[0]),
        median(hup[1]),
      ),
    );
    const term: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      term.push(await termWithStubborn(ours, `${root}/term-${round}`));
    }
    rows.push(row(`runsvdir TERM, KILL after a 1 s timeout (median of ${ROUNDS})`, median(term)));
    const drained: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await Deno.mkdir(`${root}/fifos-${round}`);
      drained.push(await drain(`${root}/fifos-${round}`));
    }
    rows.push(row(`reactor: drain 600 FIFOs (median of ${ROUNDS})`, median(drained)));
    console.log(["what", "ours", "runit 2.1.2", "ratio"].join(" | "));
    console.log("--- | --- | --- | ---");
    for (const line of rows) console.log(line);
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
