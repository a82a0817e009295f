/**
 * Adoption after a supervisor crash (issue 10, part 1), ours against
 * Debian's runit in one run: 20 services (5 of them logged) under runsvdir,
 * `kill -9` of runsvdir, runsvdir started again on the same directory. Then:
 *
 * - duplicates: payload processes beyond one per service (runit: its runsv
 *   processes outlive runsvdir and keep their locks; ours adopts);
 * - exit noticed: each service's process KILLed in turn, the time until its
 *   `supervise/pid` changes (polled every 0.2 ms): runit's runsv gets
 *   SIGCHLD for its child, ours watches an adopted process's pidfd.
 *
 * Run: deno run --allow-all bench/adopt.ts (needs Debian's runit).
 *
 * @module
 */

import { install } from "../scripts/install.ts";
import {
  isRunning,
  median,
  processesUnder,
  read,
  sleep,
  supervisedPid,
  waitUntil,
} from "./common.ts";

const SERVICES = 20;
const LOGGED = 5;

/** The services' own processes (`sleep`) under `svdir`. */
function payloads(svdir: string): number[] {
  return processesUnder(svdir).filter((pid) => read(`/proc/${pid}/cmdline`).startsWith("sleep\0"));
}

async function services(svdir: string, svlogd: string): Promise<string[]> {
  const dirs: string[] = [];
  for (let index = 0; index < SERVICES; index++) {
    const dir = `${svdir}/s${index}`;
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(`${dir}/run`, "#!/bin/sh\necho started\nexec sleep 1000\n");
    await Deno.chmod(`${dir}/run`, 0o755);
    if (index < LOGGED) {
      await Deno.mkdir(`${dir}/log/main`, { recursive: true });
      await Deno.writeTextFile(`${dir}/log/run`, `#!/bin/sh\nexec ${svlogd} ./main\n`);
      await Deno.chmod(`${dir}/log/run`, 0o755);
    }
    dirs.push(dir);
  }
  return dirs;
}

function start(runsvdir: string, svdir: string): Deno.ChildProcess {
  return new Deno.Command(runsvdir, { args: [svdir], stdout: "null", stderr: "null" }).spawn();
}

function running(dirs: string[]): boolean {
  return dirs.every((dir) => supervisedPid(dir) > 0 && isRunning(dir));
}

async function measure(name: string, bin: string, work: string): Promise<number[]> {
  const svdir = `${work}/${name}`;
  const dirs = await services(svdir, `${bin}/svlogd`);
  const first = start(`${bin}/runsvdir`, svdir);
  await waitUntil(() => running(dirs), `${name}: services to run`, {
    timeoutMs: 20_000,
    intervalMs: 10,
  });
  const before = dirs.map(supervisedPid);
  first.kill("SIGKILL");
  await first.status;
  const second = start(`${bin}/runsvdir`, svdir);
  // Until every service answers again (runit: its runsv never went away).
  await waitUntil(
    () => {
      for (const dir of dirs) {
        try {
          Deno.openSync(`${dir}/supervise/ok`, { write: true }).close();
        } catch {
          return false;
        }
      }
      return true;
    },
    `${name}: supervisors`,
    { timeoutMs: 20_000, intervalMs: 10 },
  );
  await sleep(500);
  const duplicates = payloads(svdir).length - SERVICES;
  const same = dirs.filter((dir, index) => supervisedPid(dir) === before[index]).length;
  const latencies: number[] = [];
  for (const dir of dirs) {
    const pid = supervisedPid(dir);
    const began = performance.now();
    Deno.kill(pid, "SIGKILL");
    while (supervisedPid(dir) === pid) {
      if (performance.now() - began > 5000) throw new Error(`${name}: ${dir} exit unnoticed`);
      await sleep(0.2);
    }
    latencies.push(performance.now() - began);
  }
  console.log(
    `${name}: duplicates ${duplicates}, same pid ${same}/${SERVICES}, exit noticed: median ` +
      `${median(latencies).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms`,
  );
  // runit's runsv processes are not the new runsvdir's children: each is told to exit.
  const sv = new Deno.Command(`${bin}/sv`, { args: ["exit", ...dirs], stdout: "null" });
  await sv.output();
  await waitUntil(() => processesUnder(svdir).length === 0, `${name}: services to stop`, {
    timeoutMs: 20_000,
    intervalMs: 10,
  }).catch(() => {
    for (const pid of processesUnder(svdir)) Deno.kill(pid, "SIGKILL");
  });
  second.kill("SIGTERM");
  await second.status;
  return latencies;
}

if (import.meta.main) {
  const work = await Deno.realPath(await Deno.makeTempDir({ prefix: "runit-bench-adopt-" }));
  try {
    await install(`${work}/prefix`);
    const theirs = await measure("debian runit", "/usr/bin", work);
    const ours = await measure("ours (adopted)", `${work}/prefix/bin`, work);
    console.log(
      `exit noticed, median ratio ours/runit: ${(median(ours) / median(theirs)).toFixed(2)}`,
    );
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}
