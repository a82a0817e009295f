/**
 * A directory copied in place under a running runsvdir is started only once
 * it has settled: never before its `run` exists, never within the settle
 * time of a change, and at the latest after the bounded maximum.
 *
 * The half-copied states here last longer than the settle time on purpose
 * (a deliberate gap, or cp held in strace before it creates `run`), so what
 * is asserted does not depend on how fast this machine happens to be.
 */

import { assertEquals, assertOk } from "./assert.ts";
import { entryShape } from "../src/runsvdir/scan.ts";
import {
  alive,
  bin,
  pidOf,
  readText,
  Sandbox,
  waitRunning,
  waitUntil,
  withTree,
} from "./helpers.ts";

/** The default settle time of runsvdir (ServiceTreeOptions.settleMs). */
const SETTLE_MS = 50;

/** A deliberate pause: the state under test must last this long. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether strace is installed and may trace here (ptrace can be forbidden in containers). */
function canStrace(): boolean {
  try {
    const args = ["-qq", "-o", "/dev/null", "true"];
    return new Deno.Command("/usr/bin/strace", { args, stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** A run script that appends "<its directory> conf=<conf> log=<yes|no>" to `starts`. */
function recordingRun(starts: string): string {
  return `echo "$(pwd -P) conf=$(cat conf 2>/dev/null) log=$([ -x log/run ] && echo yes || echo no)" >> ${starts}\n` +
    "exec sleep 100";
}

function lines(path: string): string[] {
  return readText(path).split("\n").filter((line) => line !== "");
}

Deno.test("settle: a copy made step by step starts only once ./run is there; mv keeps it", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  const starts = `${sb.dir}/starts`;
  const web = await sb.service("service/web", {
    run: recordingRun(starts),
    log: "exec cat >/dev/null",
  });
  await Deno.writeTextFile(`${web}/conf`, "v1");
  const daemon = sb.start(`${await bin()}/runsvdir`, [svdir]);
  const oldPid = await waitRunning(web);
  const oldLog = await waitRunning(`${web}/log`);
  await waitUntil(() => lines(starts).length === 1, { what: "web's start line" });

  // The copy, piece by piece, `run` last; each half-copied state lasts 4 settle times.
  const copy = `${svdir}/web.new`;
  await Deno.mkdir(copy);
  await pause(4 * SETTLE_MS);
  await sb.script(`${copy}/log/run`, "exec cat >/dev/null");
  await pause(4 * SETTLE_MS);
  await Deno.writeTextFile(`${copy}/conf`, "v2");
  await pause(4 * SETTLE_MS);
  // Our supervisor would have made supervise/ (runsv does so before ./run).
  assertEquals(readText(`${copy}/supervise/stat`), "", "web.new not started without ./run");
  assertEquals(lines(starts).length, 1, "only web has started");
  await Deno.writeTextFile(`${copy}/run`, `#!/bin/sh\n${recordingRun(starts)}\n`, {
    mode: 0o755,
  });
  const newPid = await waitRunning(copy);
  await waitRunning(`${copy}/log`);
  await waitUntil(() => lines(starts).length === 2, { what: "web.new's start line" });

  await Deno.remove(web, { recursive: true });
  await Deno.rename(copy, web);
  await waitUntil(() => !alive(oldPid) && !alive(oldLog), { what: "the old web down" });
  // A rename restarts nothing: the copy's process now runs as web.
  assertEquals(pidOf(web), newPid);
  assertOk(alive(newPid), "web runs the copy");
  assertEquals(lines(starts), [`${svdir}/web conf=v1 log=yes`, `${copy} conf=v2 log=yes`]);

  Deno.kill(daemon.pid, "SIGTERM");
  const { code, stderr } = await daemon.done;
  assertEquals(code, 0, stderr);
  assertOk(!stderr.includes("web.new"), `no complaint about web.new: ${stderr}`);
});

Deno.test({
  name: "settle: cp -a web web.new; rm -rf web; mv web.new web, with cp held before ./run",
  // Needs strace to hold cp at a chosen point.
  ignore: !canStrace(),
  async fn() {
    await using sb = await Sandbox.create();
    const svdir = `${sb.dir}/service`;
    const starts = `${sb.dir}/starts`;
    // run made last, so that cp (which goes by inode number) likely copies it last too.
    const web = `${svdir}/web`;
    await sb.script(`${web}/log/run`, "exec cat >/dev/null");
    await Deno.writeTextFile(`${web}/conf`, "v1");
    await sb.script(`${web}/run`, recordingRun(starts));
    const daemon = sb.start(`${await bin()}/runsvdir`, [svdir]);
    const oldPid = await waitRunning(web);
    const oldLog = await waitRunning(`${web}/log`);
    await waitUntil(() => lines(starts).length === 1, { what: "web's start line" });

    // strace holds cp just before it creates web.new/run, for 10 settle times:
    // whatever cp copied before `run` sits there, half-copied, meanwhile.
    const held = `delay_enter=${10 * SETTLE_MS * 1000}`;
    const sequence = "cp -a web web.new && rm -rf web && mv web.new web";
    const began = performance.now();
    const copying = sb.run("/usr/bin/strace", [
      "-f",
      "-qq",
      "-o",
      "/dev/null",
      "-P",
      "web.new/run",
      "-e",
      "trace=openat",
      "-e",
      `inject=openat:${held}`,
      "sh",
      "-c",
      sequence,
    ], { cwd: svdir });
    const done = await copying;
    assertEquals(done.code, 0, done.stderr);
    assertOk(performance.now() - began >= 10 * SETTLE_MS, "strace held cp");

    const newPid = await waitRunning(web, { not: oldPid });
    await waitRunning(`${web}/log`, { not: oldLog });
    await waitUntil(() => !alive(oldPid) && !alive(oldLog), { what: "the old web down" });
    // Each start ran a whole run script, from web or (had it settled before mv) web.new.
    await waitUntil(() => lines(starts).length >= 2, { what: "the copy's start line" });
    for (const line of lines(starts)) {
      assertOk(/^\S+\/(web|web\.new) conf=v1 log=yes$/.test(line), `start from a copy: ${line}`);
    }
    assertOk(alive(newPid), "web runs the copy");

    Deno.kill(daemon.pid, "SIGTERM");
    const { code, stderr } = await daemon.done;
    assertEquals(code, 0, stderr);
    // Started before ./run existed, runsv would warn so (as runit's does).
    assertOk(
      !/^runsv web\.new: warning: unable to start/m.test(stderr),
      `started early: ${stderr}`,
    );
  },
});

Deno.test("settle: each change restarts the quiet time; the start waits for the last", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  await Deno.mkdir(svdir);
  const settleMs = 300;
  await withTree(svdir, async () => {
    // Changes every 60 ms (new names: every one is seen), `run` there from the first.
    const changes: Array<{ before: number; after: number }> = [];
    const dir = `${svdir}/web`;
    let before = Date.now();
    await sb.service("service/web", { run: "date +%s%N > started\nexec sleep 100" });
    changes.push({ before, after: Date.now() });
    for (let i = 0; i < 6; i++) {
      await pause(60);
      before = Date.now();
      await Deno.writeTextFile(`${dir}/part${i}`, "");
      changes.push({ before, after: Date.now() });
    }
    await waitUntil(() => readText(`${dir}/started`).endsWith("\n"), { what: "web to start" });
    const startedMs = Number(BigInt(readText(`${dir}/started`).trim()) / 1_000_000n);
    // Had this test been held up longer than the settle time between two
    // changes, the tree could rightly start in that gap: the start must
    // then wait only for the changes up to the gap.
    let last = changes.length - 1;
    for (let i = 0; i + 1 < changes.length; i++) {
      if (changes[i + 1].after - changes[i].before >= settleMs) {
        last = i;
        break;
      }
    }
    const quietFrom = changes[last].before;
    assertOk(
      startedMs >= quietFrom + settleMs,
      `started ${startedMs - quietFrom} ms after change ${last}, settle is ${settleMs}`,
    );
  }, { settleMs, settleMaxMs: 60_000 });
});

Deno.test("settle: a directory that never gets ./run is supervised after the maximum", async () => {
  await using sb = await Sandbox.create();
  const svdir = `${sb.dir}/service`;
  await Deno.mkdir(svdir);
  const settleMaxMs = 400;
  await withTree(svdir, async (_tree, reports) => {
    const before = Date.now();
    await Deno.mkdir(`${svdir}/norun`);
    const warning = "runsv norun: warning: unable to start ./run: file does not exist";
    await waitUntil(() => reports.includes(warning), { what: "norun supervised", interval: 5 });
    const took = Date.now() - before;
    assertOk(
      took >= settleMaxMs,
      `norun supervised after ${took} ms, the maximum is ${settleMaxMs}`,
    );
    // Supervised as under runit: ./run is tried again each second until it is there.
    await sb.script(`${svdir}/norun/run`, "exec sleep 100");
    await waitRunning(`${svdir}/norun`);
    // (It may have said so again each second until then.)
    assertOk(reports.every((line) => line === warning), reports.join("\n"));
  }, { settleMs: SETTLE_MS, settleMaxMs });
});

Deno.test("settle: an entry's shape changes with what is written in it and in log/", async () => {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/web`;
  await Deno.mkdir(`${dir}/log`, { recursive: true });
  const empty = entryShape(dir);
  assertEquals([empty.exists, empty.hasRun], [true, false]);
  assertEquals(entryShape(dir).print, empty.print, "nothing changed, same print");
  await Deno.writeTextFile(`${dir}/run`, "");
  const created = entryShape(dir);
  assertEquals(created.hasRun, true);
  const steps: Array<() => Promise<void>> = [
    () => Deno.writeTextFile(`${dir}/run`, "#!/bin/sh\nexec sleep 100\n"),
    () => Deno.chmod(`${dir}/run`, 0o755),
    () => Deno.writeTextFile(`${dir}/log/run`, ""),
    () => Deno.writeTextFile(`${dir}/log/run`, "#!/bin/sh\n"),
    () => Deno.writeTextFile(`${dir}/conf`, "x"),
    () => Deno.mkdir(`${dir}/env`),
  ];
  let last = created.print;
  for (const [i, step] of steps.entries()) {
    await step();
    const now = entryShape(dir).print;
    assertOk(now !== last, `step ${i} changes the print`);
    last = now;
  }
  await Deno.remove(dir, { recursive: true });
  assertEquals(entryShape(dir).exists, false);
});
