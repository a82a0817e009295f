/**
 * Fault injection: what one service (or the world around runsvdir) does must
 * not stop the supervision of the others. Each test is a row of issue 10's
 * fault table, run against the installed runsvdir as a user would.
 *
 * @module
 */

import { assertEquals, assertOk } from "./assert.ts";
import { alive, bin, pidOf, readText, Sandbox, type Started, waitRunning } from "./helpers.ts";
import { coalesceCommands } from "../src/supervise/supervisor.ts";

/** A started runsvdir that is TERMed (then KILLed) on disposal. */
type Guarded = Started & AsyncDisposable;

function guard(started: Started): Guarded {
  let finished = false;
  started.done.finally(() => finished = true);
  return {
    ...started,
    async [Symbol.asyncDispose]() {
      if (!finished) {
        try {
          Deno.kill(started.pid, "SIGTERM");
        } catch {
          // Already gone.
        }
        const deadline = Date.now() + 10_000;
        while (!finished && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        if (!finished) started.child.kill("SIGKILL");
      }
      await started.done.catch(() => {});
    },
  };
}

/** Resident set size of `pid` in KiB (0 when gone). */
function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readText(`/proc/${pid}/status`));
  return match ? Number(match[1]) : 0;
}

/** A service tree of `count` sleeping services `s0`, `s1`, … under `sb.dir/sv`. */
async function sleepers(sb: Sandbox, count: number): Promise<string[]> {
  const dirs: string[] = [];
  for (let i = 0; i < count; i++) {
    dirs.push(await sb.service(`sv/s${i}`, { run: "exec sleep 1000" }));
  }
  return dirs;
}

Deno.test("coalesceCommands: order kept, repeats and non-commands dropped", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  assertEquals(coalesceCommands(bytes("uu\nzz\xffduud")), ["u", "d", "u", "d"]);
  assertEquals(coalesceCommands(bytes("du")), ["d", "u"]);
  assertEquals(coalesceCommands(bytes("ud")), ["u", "d"]);
  assertEquals(coalesceCommands(bytes("hhh-h1t t")), ["h", "1", "t"]);
  assertEquals(coalesceCommands(bytes("zzz 7 bbb\n")), []);
});

Deno.test("faults: 16 MiB into one control FIFO leaves memory flat and every service as it was", async () => {
  await using sb = await Sandbox.create();
  const dirs = await sleepers(sb, 3);
  await using daemon = guard(sb.start(`${await bin()}/runsvdir`, [`${sb.dir}/sv`]));
  const pids = await Promise.all(dirs.map((dir) => waitRunning(dir)));
  const base = rssKiB(daemon.pid);
  assertOk(base > 0, "runsvdir's RSS");
  // Mixed bytes: mostly junk (high bytes, letters that are no command), one
  // in 512 a `u` or `c`, which leave a running service as it is.
  const chunk = new Uint8Array(64 * 1024);
  let seed = 42;
  const junk = new TextEncoder().encode("bfgjlmnrsvwyzBDUX \n\xff0789");
  for (let i = 0; i < chunk.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    chunk[i] = i % 512 === 0 ? (seed & 1 ? 0x75 : 0x63) : junk[seed % junk.length];
  }
  const limitKiB = base + 100 * 1024;
  let peak = base;
  const fifo = await Deno.open(`${dirs[0]}/supervise/control`, { write: true });
  try {
    for (let written = 0; written < 16 * 1024 * 1024; written += chunk.length) {
      let off = 0;
      while (off < chunk.length) off += await fifo.write(chunk.subarray(off));
      peak = Math.max(peak, rssKiB(daemon.pid));
      assertOk(peak < limitKiB, `runsvdir RSS ${peak} KiB (started at ${base} KiB)`);
    }
  } finally {
    fifo.close();
  }
  assertOk(alive(daemon.pid), "runsvdir is alive");
  dirs.forEach((dir, i) => assertEquals(pidOf(dir), pids[i], `${dir} kept its pid`));
  const sv = `${await bin()}/sv`;
  const restart = await sb.run(sv, ["-w", "10", "restart", dirs[0]]);
  assertEquals(restart.code, 0, restart.stdout + restart.stderr);
  const restarted = await waitRunning(dirs[0], { not: pids[0] });
  assertOk(restarted !== pids[0]);
  const status = await sb.run(sv, ["status", ...dirs.slice(1)]);
  assertEquals(status.code, 0);
  dirs.slice(1).forEach((dir, i) => assertEquals(pidOf(dir), pids[i + 1], `${dir} kept its pid`));
  assertOk(rssKiB(daemon.pid) < limitKiB);
  console.log(`runsvdir RSS: ${base} KiB at start, peak ${peak} KiB during 16 MiB`);
});
