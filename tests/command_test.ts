/**
 * The one home of sv's command semantics (src/supervise/command.ts): the
 * command table, the "taken effect" rules with full timestamps, ./check, the
 * wait loop, and the library's `control` built on them.
 */
import { assertEquals, assertOk } from "./assert.ts";
import { control, readStatus, type ServiceInfo, TimeoutError } from "../mod.ts";
import {
  checkScriptApplies,
  commandActs,
  commandProgress,
  needsSending,
  type Pass,
  planCommand,
  tookEffect,
  waitLoop,
} from "../src/supervise/command.ts";
import type { ServiceStatus } from "../src/supervise/status.ts";
import { now } from "../src/sys/mod.ts";
import {
  bin,
  hasDebianRunit,
  normalizeStatus,
  readText,
  Sandbox,
  waitRunning,
  waitUntil,
} from "./helpers.ts";

const running: ServiceStatus = {
  sec: 1000,
  nsec: 400_000_500,
  pid: 7,
  paused: false,
  want: "up",
  gotTerm: false,
  state: "run",
};
const stopped: ServiceStatus = { ...running, pid: 0, state: "down" };

Deno.test("command: sv's names, first letters and LSB words", () => {
  const plan = (action: string, lsb = false) => planCommand(action, { lsb, verbose: false });
  assertEquals(plan("force-stop"), {
    send: true,
    acts: "d",
    wait: true,
    kill: true,
    status: false,
  });
  assertEquals(plan("reload"), { send: true, acts: "h", wait: true, kill: false, status: false });
  assertEquals(plan("Down"), { send: true, acts: "d", wait: true, kill: true, status: false });
  assertEquals(plan("Term")?.acts, "tc");
  assertEquals(plan("Exit")?.kill, true);
  assertEquals(plan("exit"), { send: true, acts: "x", wait: false, kill: false, status: false });
  assertEquals(plan("usr1")?.acts, "u"); // sv reads the first character only
  assertEquals(plan("2")?.acts, "2");
  assertEquals(plan("check"), { send: false, acts: "C", wait: true, kill: false, status: false });
  assertEquals(plan("status", true)?.status, true);
  assertEquals(plan("stop", true)?.acts, "d");
  assertEquals(plan("s", true), undefined);
  assertEquals(plan(""), undefined);
  assertEquals(plan("constructor"), {
    send: true,
    acts: "c",
    wait: false,
    kill: false,
    status: false,
  });
  assertEquals(plan("force-"), undefined);
  assertEquals(planCommand("up", { lsb: false, verbose: true })?.wait, true);
  // The library's names go through the same table.
  assertEquals(
    (["up", "down", "usr1", "usr2", "term", "kill", "exit", "restart"] as const).map(commandActs),
    ["u", "d", "1", "2", "t", "k", "x", "tcu"],
  );
});

Deno.test("command: sv sends nothing when the service already wants it", () => {
  assertEquals(needsSending("u", running), false);
  assertEquals(needsSending("tcu", running), true);
  assertEquals(needsSending("d", { ...running, want: "down" }), true); // down after once
  assertEquals(needsSending("d", { ...running, want: "down", gotTerm: true }), false);
  assertEquals(needsSending("x", stopped), true);
});

Deno.test("command: a change earlier in the same second is not the effect", () => {
  // The last change at 1000.4000005 s (runit's runsv stamps microseconds + 500 ns).
  const sent = (sec: number, nsec: number) => ({ sent: { sec, nsec } });
  // Sent later in the same second: runit's sv (whole seconds) calls t, k and o done.
  assertEquals(tookEffect("t", running, sent(1000, 900_000_000)), false);
  assertEquals(tookEffect("k", running, sent(1000, 900_000_000)), false);
  assertEquals(tookEffect("o", stopped, sent(1000, 900_000_000)), false);
  // A change after sending is the effect, in the same second or a later one.
  assertEquals(tookEffect("t", running, sent(1000, 100_000_000)), true);
  assertEquals(tookEffect("t", running, sent(999, 900_000_000)), true);
  assertEquals(tookEffect("o", stopped, sent(1000, 100_000_000)), true);
  // runit's stamp is gettimeofday's microsecond + 500 ns: sent within that
  // microsecond (before runsv's clock read) still counts.
  assertEquals(tookEffect("t", running, sent(1000, 400_000_900)), true);
  assertEquals(tookEffect("t", running, sent(1000, 400_001_000)), false);
  // The rest does not depend on time.
  assertEquals(tookEffect("t", { ...running, gotTerm: true }, sent(0, 0)), false);
  assertEquals(tookEffect("t", { ...stopped, want: "down" }, sent(2000, 0)), true);
  assertEquals(tookEffect("o", { ...running, want: "down" }, sent(2000, 0)), true);
  assertEquals(tookEffect("o", running, sent(0, 0)), false);
  assertEquals(tookEffect("u", running, sent(2000, 0)), true);
  assertEquals(tookEffect("u", { ...running, state: "finish" }, sent(0, 0)), false);
  assertEquals(tookEffect("d", stopped, sent(2000, 0)), true);
  assertEquals(tookEffect("p", running, sent(0, 0)), false);
  assertEquals(tookEffect("p", { ...running, paused: true }, sent(0, 0)), true);
  assertEquals(tookEffect("c", { ...running, paused: true }, sent(0, 0)), false);
  assertEquals(tookEffect("x", stopped, sent(0, 0)), false);
  assertEquals(tookEffect("h", running, sent(2000, 0)), true);
});

Deno.test("command: ./check applies to u, and to t and k unless down and wanted down", async () => {
  assertEquals(checkScriptApplies("u", running), true);
  assertEquals(checkScriptApplies("t", running), true);
  assertEquals(checkScriptApplies("k", stopped), true);
  assertEquals(checkScriptApplies("t", { ...stopped, want: "down" }), false);
  assertEquals(checkScriptApplies("d", stopped), false);
  let checks = 0;
  const progress = (acts: string, status: ServiceStatus, passes: boolean) =>
    commandProgress(acts, { kind: "status", status }, {
      sent: { sec: 0, nsec: 0 },
      check: () => {
        checks++;
        return Promise.resolve(passes);
      },
    });
  assertEquals(await progress("u", running, false), "pending");
  assertEquals(await progress("u", running, true), "done");
  assertEquals(await progress("C", running, false), "pending"); // check: wanted up means u
  assertEquals(await progress("C", { ...stopped, want: "down" }, false), "done");
  assertEquals(await progress("tcu", running, true), "done");
  assertEquals(checks, 5); // t and u of tcu each ran it; d never does
  assertEquals(await progress("u", stopped, true), "pending");
  assertEquals(checks, 5); // not while the service is not up yet
  const none = { sent: { sec: 0, nsec: 0 }, check: () => Promise.resolve(true) };
  assertEquals(await commandProgress("x", { kind: "not-running" }, none), "done");
  assertEquals(await commandProgress("d", { kind: "not-running" }, none), "failed");
  assertEquals(await commandProgress("u", { kind: "error", message: "no" }, none), "failed");
});

Deno.test("command: the wait loop looks again until done, and once late drops what is left", async () => {
  const seen: Array<[string, boolean]> = [];
  await waitLoop(["a", "b"], (item, pass: Pass) => {
    seen.push([item, pass.late]);
    return Promise.resolve(item === "a" && seen.length > 2);
  }, { start: now(), timeout: 0 });
  // Pass 1 (not late): a, b pending. Pass 2 (late): a done, b dropped.
  assertEquals(seen, [["a", false], ["b", false], ["a", true], ["b", true]]);
  const controller = new AbortController();
  const reason = new Error("stop waiting");
  let passes = 0;
  const waiting = waitLoop(["a"], () => {
    if (++passes === 2) controller.abort(reason);
    return Promise.resolve(false);
  }, { start: now(), timeout: 60_000, signal: controller.signal });
  let error: unknown;
  await waiting.catch((caught) => error = caught);
  assertOk(error === reason, `rejected with the reason: ${error}`);
  assertEquals(passes, 2);
});

/** Start `runsv` on a normally-down service; resolves with its pid. */
async function supervise(sb: Sandbox, runsv: string, dir: string): Promise<number> {
  const { pid } = sb.start(runsv, [dir]);
  await waitUntil(() => readStatus(dir), { what: `${runsv} ${dir}` });
  return pid;
}

function lines(path: string): number {
  return readText(path).split("\n").length - 1;
}

Deno.test("command: control honours ./check and times out with a TimeoutError", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 100", down: true });
  await sb.script(`${dir}/check`, "echo >> checked\ntest -e ready");
  await supervise(sb, `${await bin()}/runsv`, dir);
  await control(dir, "up");
  const first = await waitRunning(dir);
  // Running, but ./check fails: up has not taken effect.
  let error: unknown;
  await control(dir, "up", { timeout: 300 }).catch((caught) => error = caught);
  assertOk(error instanceof TimeoutError, `a TimeoutError: ${error}`);
  assertEquals([error.dir, error.command, error.status.state, error.status.pid], [
    dir,
    "up",
    "run",
    first,
  ]);
  assertEquals(error.message, `timeout: ${dir}: up has not taken effect`);
  assertOk(lines(`${dir}/checked`) > 0, "./check ran");
  // down does not ask ./check.
  const down = await control(dir, "down", { timeout: 7000 });
  assertEquals(down.state, "down");
  await Deno.writeTextFile(`${dir}/ready`, "");
  const before = lines(`${dir}/checked`);
  const up = await control(dir, "up", { timeout: 7000 });
  assertEquals(up.state, "run");
  assertEquals(lines(`${dir}/checked`), before + 1);
  const restarted = await control(dir, "restart", { timeout: 7000 });
  assertOk(restarted.pid !== up.pid && restarted.state === "run", "restarted");
  assertEquals(lines(`${dir}/checked`), before + 3); // t and u
});

Deno.test("command: control stops waiting when its signal aborts", async () => {
  await using sb = await Sandbox.create();
  const runsv = `${await bin()}/runsv`;
  const dir = await sb.service("svc", { run: "exec sleep 100", down: true });
  await sb.script(`${dir}/check`, "echo start >> checked\necho end >> checked\nexit 1");
  // A second service whose ./check passes on its third run: a clock made of
  // the same wait loop.
  const clock = await sb.service("clock", { run: "exec sleep 100", down: true });
  await sb.script(`${clock}/check`, 'echo >> runs\ntest "$(wc -l < runs)" -ge 3');
  await supervise(sb, runsv, dir);
  await supervise(sb, runsv, clock);
  // Already aborted: nothing is sent.
  const early = new Error("early");
  let error: unknown;
  await control(dir, "up", { signal: AbortSignal.abort(early) }).catch((caught) => error = caught);
  assertOk(error === early, `rejected with the reason: ${error}`);
  assertEquals(readStatus(dir).want, "down");
  // Aborted while waiting for ./check to pass: rejects with the reason.
  const controller = new AbortController();
  const reason = new Error("no longer needed");
  const waiting = control(dir, "up", { timeout: 60_000, signal: controller.signal });
  waiting.catch(() => {});
  const starts = () => readText(`${dir}/checked`).split("\n").filter((l) => l === "start").length;
  await waitUntil(() => starts() >= 2, { what: "./check to run twice" });
  controller.abort(reason);
  error = undefined;
  await waiting.catch((caught) => error = caught);
  assertOk(error === reason, `rejected with the reason: ${error}`);
  assertEquals(readStatus(dir).want, "up");
  // It polls no more: while the clock's loop runs ./check three times,
  // ./check of the aborted one does not run again.
  await waitUntil(() => readText(`${dir}/checked`).endsWith("end\n"), { what: "./check to end" });
  const seen = starts();
  await control(clock, "up", { timeout: 7000 });
  assertEquals(lines(`${clock}/runs`), 3);
  assertEquals(starts(), seen);
});

/**
 * Bring the service up at the start of a second, stop its runsv (SIGSTOP),
 * and run `fn` while the last change is still in this second; retried when
 * the second ran out. runsv continues afterwards.
 */
async function inSecondOfLastChange<T>(
  dir: string,
  runsv: number,
  fn: (up: ServiceInfo) => Promise<T>,
): Promise<{ up: ServiceInfo; result: T }> {
  const found = await waitUntil(async () => {
    await control(dir, "down", { timeout: 7000 });
    // Past runsv's one-second pause after a short run, early in a second.
    const down = readStatus(dir).since.getTime();
    await waitUntil(() => Date.now() - down > 1100 && Date.now() % 1000 < 150, {
      interval: 5,
      what: "the start of a second",
    });
    const up = await control(dir, "up", { timeout: 7000 });
    Deno.kill(runsv, "SIGSTOP");
    try {
      const result = await fn(up);
      const second = Math.floor(up.since.getTime() / 1000);
      return Math.floor(Date.now() / 1000) === second ? { up, result } : undefined;
    } finally {
      Deno.kill(runsv, "SIGCONT");
    }
  }, { timeout: 40_000, what: "a command sent in the second of the last change" });
  return found!;
}

async function sameSecondRestart(runsv: string) {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 100", down: true });
  const pid = await supervise(sb, runsv, dir);
  // runsv is stopped, so the restart cannot have happened: the old rule
  // (same second, running, no TERM) calls it done at once.
  const library = await inSecondOfLastChange(dir, pid, async () => {
    try {
      return await control(dir, "restart", { timeout: 0 });
    } catch (error) {
      return error;
    }
  });
  assertOk(library.result instanceof TimeoutError, `a TimeoutError: ${library.result}`);
  assertEquals(library.result.status.pid, library.up.pid);
  // Once runsv goes on, the restart happens.
  await waitRunning(dir, { not: library.up.pid });
  // sv decides the same way; its output stays runit's.
  const sv = `${await bin()}/sv`;
  const cli = await inSecondOfLastChange(dir, pid, () => sb.run(sv, ["-w", "0", "restart", dir]));
  assertEquals(
    [normalizeStatus(cli.result.stdout), cli.result.code],
    [`timeout: run: ${dir}: (pid N) Ns, normally down\n`, 1],
  );
  await waitRunning(dir, { not: cli.up.pid });
  // Against a runsv that goes on, a restart right after a change resolves
  // with the new process.
  const up = await control(dir, "up", { timeout: 7000 });
  const restarted = await control(dir, "restart", { timeout: 7000 });
  assertOk(restarted.pid !== undefined && restarted.pid !== up.pid, "a new pid");
}

Deno.test("command: a restart in the second of the last change waits for it (our runsv)", async () => {
  await sameSecondRestart(`${await bin()}/runsv`);
});

Deno.test({
  name: "command: a restart in the second of the last change waits for it (Debian's runsv)",
  ignore: !hasDebianRunit(),
  async fn() {
    await sameSecondRestart("/usr/bin/runsv");
  },
});
