/**
 * What an sv command means and when it is done: the command table, the
 * "taken effect" rules, the readiness and `./check` rules and the wait loop.
 * The single home of these semantics; `sv` and the library's `control` both
 * use it.
 *
 * @module
 */

import { now, type Timestamp } from "../sys/clock.ts";
import { errnoOf, errorText } from "../sys/errno.ts";
import { closeFd, statAt } from "../sys/fs.ts";
import { waitForChange, watchDirectories } from "../sys/inotify.ts";
import { exitCode, spawn, waitFor } from "../sys/process.ts";
import type { Probe } from "./client.ts";
import type { Readiness } from "./info.ts";
import type { ServiceStatus } from "./status.ts";

/** What an sv command does: characters to send, then what to wait for. */
export interface Plan {
  /** Send `acts` to each service (false for status and check). */
  send: boolean;
  /** The control characters (or "s" for status, "C" for check). */
  acts: string;
  /** Wait for the command to take effect. */
  wait: boolean;
  /** On timeout, send `k` (the force- commands). */
  kill: boolean;
  /** Report status instead of sending. */
  status: boolean;
  /** `logs`: show the service's log (this implementation's own command). */
  logs?: boolean;
}

/** The whole-word (LSB) commands: characters sent, and whether a timeout sends `k`. */
const WORDS: ReadonlyMap<string, readonly [acts: string, kill: boolean]> = new Map([
  ["start", ["u", false]],
  ["stop", ["d", false]],
  ["restart", ["tcu", false]],
  ["reload", ["h", false]],
  ["shutdown", ["x", false]],
  ["try-restart", ["tc", false]],
  ["force-stop", ["d", true]],
  ["force-reload", ["tc", true]],
  ["force-restart", ["tcu", true]],
  ["force-shutdown", ["x", true]],
]);

/** Upper-case first letters: always wait, and send `k` on timeout. */
const FORCED: ReadonlyMap<string, string> = new Map([
  ["X", "x"],
  ["E", "x"],
  ["D", "d"],
  ["T", "tc"],
]);

/** First letters sent as they are (sv looks at the first character only). */
const LETTERS = "udophaikq12tc";

/**
 * The plan for an sv command, or undefined when the command is not one
 * (sv then prints its usage). `verbose` (-v or -w) makes every sending
 * command wait; in `lsb` mode (called as an init script) a command starting
 * with `s` must be a whole word.
 *
 * @example
 * ```ts
 * import { planCommand } from "./command.ts";
 * planCommand("restart", { lsb: false, verbose: false })?.acts; // "tcu"
 * planCommand("usr1", { lsb: false, verbose: false })?.acts; // "u": sv reads "up"
 * ```
 */
export function planCommand(
  action: string,
  options: { lsb: boolean; verbose: boolean },
): Plan | undefined {
  const plan = (acts: string, wait: boolean, kill = false): Plan => ({
    send: true,
    acts,
    wait,
    kill,
    status: false,
  });
  if (action === "check") return { send: false, acts: "C", wait: true, kill: false, status: false };
  // Not runit's: it prints its usage for any word starting with `l`.
  if (action === "logs" && !options.lsb) {
    return { send: false, acts: "", wait: false, kill: false, status: false, logs: true };
  }
  const word = WORDS.get(action);
  if (word !== undefined) return plan(word[0], true, word[1]);
  const first = action.charAt(0);
  if (first === "") return undefined;
  const forced = FORCED.get(first);
  if (forced !== undefined) return plan(forced, true, true);
  if (first === "x" || first === "e") return plan("x", options.verbose);
  if (LETTERS.includes(first)) return plan(first, options.verbose);
  if (first === "s" && (!options.lsb || action === "status")) {
    return { send: false, acts: "s", wait: false, kill: false, status: true };
  }
  return undefined;
}

/**
 * The library's command names and the sv command each stands for. sv needs
 * `1` and `2` for USR1 and USR2 (it would read `usr1` as `up`).
 */
export const COMMANDS = {
  up: "up",
  down: "down",
  once: "once",
  pause: "pause",
  cont: "cont",
  hup: "hup",
  alarm: "alarm",
  interrupt: "interrupt",
  quit: "quit",
  usr1: "1",
  usr2: "2",
  term: "term",
  kill: "kill",
  exit: "exit",
  restart: "restart",
} as const;

/** A command for the library's `control`: one of {@link COMMANDS}. */
export type Command = keyof typeof COMMANDS;

/**
 * The control characters the library sends for `command`, as sv sends them.
 *
 * @example
 * ```ts
 * import { commandActs } from "./command.ts";
 * commandActs("restart"); // "tcu"
 * commandActs("usr1"); // "1"
 * ```
 */
export function commandActs(command: Command): string {
  return planCommand(COMMANDS[command], { lsb: false, verbose: true })!.acts;
}

/**
 * Whether sv writes `acts` at all: not when the service already wants what
 * the first character asks for (except `d` while no TERM is pending, which
 * makes `down` after `once` send its TERM).
 *
 * @example
 * ```ts
 * import { needsSending } from "./command.ts";
 * needsSending("u", {
 *   sec: 0, nsec: 0, pid: 1, paused: false, want: "up", gotTerm: false, state: "run",
 * }); // false
 * ```
 */
export function needsSending(acts: string, status: ServiceStatus): boolean {
  const want = status.want === "up" ? "u" : "d";
  return !(want === acts[0] && (acts[0] !== "d" || status.gotTerm));
}

/**
 * Whether the status records a change at or after `sent`. runit's sv compares
 * whole seconds, which takes a change earlier in the same second for the
 * answer. runit's runsv stamps with gettimeofday (microseconds, plus 500 ns),
 * so both sides are compared in microseconds.
 */
function changedSince(status: ServiceStatus, sent: Timestamp): boolean {
  if (status.sec !== sent.sec) return status.sec > sent.sec;
  return Math.floor(status.nsec / 1000) >= Math.floor(sent.nsec / 1000);
}

/**
 * Whether control character `act` has taken effect, by sv's rules, with the
 * status's full timestamp compared against `sent` (when the command was
 * sent). `x` never has while a supervisor answers. The `./check` script is
 * not consulted here; see {@link checkScriptApplies}.
 *
 * @example
 * ```ts
 * import { tookEffect } from "./command.ts";
 * const status = {
 *   sec: 100, nsec: 5000, pid: 7, paused: false, want: "up", gotTerm: false, state: "run",
 * } as const;
 * tookEffect("t", status, { sent: { sec: 100, nsec: 9000 } }); // false: changed before
 * tookEffect("t", status, { sent: { sec: 100, nsec: 1000 } }); // true
 * ```
 */
export function tookEffect(
  act: string,
  status: ServiceStatus,
  options: { sent: Timestamp },
): boolean {
  const { pid, state } = status;
  switch (act) {
    case "x":
      return false;
    case "u":
      return pid !== 0 && state === "run";
    case "d":
      return pid === 0 && state === "down";
    case "t":
    case "k":
      if (!pid && status.want === "down") return true;
      return changedSince(status, options.sent) && pid !== 0 && !status.gotTerm;
    case "o":
      if (!pid) return changedSince(status, options.sent);
      return status.want === "down";
    case "p":
      return !(pid && !status.paused);
    case "c":
      return !(pid && status.paused);
    default:
      return true;
  }
}

/**
 * Whether `./check` must also pass before `act` counts as done: for `u`, and
 * for `t` and `k` unless the service is down and wanted down.
 *
 * @example
 * ```ts
 * import { checkScriptApplies } from "./command.ts";
 * checkScriptApplies("u", {
 *   sec: 0, nsec: 0, pid: 1, paused: false, want: "up", gotTerm: false, state: "run",
 * }); // true
 * ```
 */
export function checkScriptApplies(act: string, status: ServiceStatus): boolean {
  if (act === "u") return true;
  if (act === "t" || act === "k") return !(!status.pid && status.want === "down");
  return false;
}

/** The outcome of running `./check`. */
export interface CheckResult {
  /** Absent, or exited 0 (or could not be executed, as runit counts it). */
  passed: boolean;
  /** What went wrong, as sv prints it after `warning: `. */
  warning?: string;
}

/**
 * Run the service's `./check` (stdout closed) as sv does: passes when it is
 * absent or exits 0. `service` names the service in warnings.
 *
 * @example
 * ```ts
 * import { runCheckScript } from "./command.ts";
 * import { openServiceDir } from "./client.ts";
 * const { passed } = await runCheckScript(openServiceDir("/etc/service/web"), { service: "web" });
 * ```
 */
export async function runCheckScript(
  dirFd: number,
  options: { service: string },
): Promise<CheckResult> {
  let stat;
  try {
    stat = statAt(dirFd, "check");
  } catch (error) {
    const warning = `unable to stat ${options.service}/check: ${errorText(errnoOf(error))}`;
    return { passed: false, warning };
  }
  if (stat === undefined) return { passed: true };
  let pid: number;
  try {
    pid = spawn(["./check"], { cwdFd: dirFd, close: [1] });
  } catch (error) {
    // runit's child prints this and exits 0, which counts as success.
    const warning = `unable to run ${options.service}/check: ${errorText(errnoOf(error))}`;
    return { passed: true, warning };
  }
  try {
    return { passed: exitCode(await waitFor(pid)) === 0 };
  } catch (error) {
    // As sv: a status that cannot be collected fails the check.
    const warning = `unable to wait for child ${options.service}/check: ${
      errorText(errnoOf(error))
    }`;
    return { passed: false, warning };
  }
}

/**
 * Where a command stands: done, not yet, given up (no supervisor, unreadable
 * status), or `unready`: the service went down before it declared itself ready.
 */
export type Progress = "done" | "pending" | "failed" | "unready";

/** Where a service's readiness stands while a command waits for it. */
export type ReadyProgress = "ready" | "pending" | "unready";

/**
 * Follows one service's readiness across a wait's passes. A service that
 * declares readiness is waited for until its `./run` is ready; one that
 * went down (or was restarted) after it had been seen running and not ready
 * is `unready`, even when it has started again since (the status time says
 * so when a pass missed the down state).
 *
 * @example
 * ```ts
 * import { ReadyWait } from "./command.ts";
 * const wait = new ReadyWait();
 * const status = {
 *   sec: 100, nsec: 0, pid: 7, paused: false, want: "up", gotTerm: false, state: "run",
 * } as const;
 * wait.step(status, { notify: "fd", ready: null }); // "pending"
 * wait.step({ ...status, sec: 101 }, { notify: "fd", ready: null }); // "unready"
 * ```
 */
export class ReadyWait {
  /** The `./run` seen running and not ready: its status time. */
  #seen: Timestamp | undefined;

  /** Where readiness stands, given the status and what info.ts's readReadiness read. */
  step(status: ServiceStatus, readiness: Pick<Readiness, "notify" | "ready">): ReadyProgress {
    if (readiness.notify === null) return "ready";
    const running = status.state === "run" && status.pid !== 0;
    if (running && readiness.ready !== null) return "ready";
    const seen = this.#seen;
    if (seen === undefined) {
      if (running) this.#seen = { sec: status.sec, nsec: status.nsec };
      return "pending";
    }
    const same = running && status.sec === seen.sec && status.nsec === seen.nsec;
    return same ? "pending" : "unready";
  }
}

/**
 * sv's check(): whether every character of `acts` has taken effect for the
 * service whose status is `probe`. `C` (the check command) stands for `d`
 * when the service is wanted down, else `u`. Where {@link checkScriptApplies},
 * the service must also be ready (`ready`, when given: see
 * {@link ReadyWait}) and `check` (which runs `./check`) must pass; `x` is
 * done once no supervisor answers.
 *
 * @example
 * ```ts
 * import { commandProgress } from "./command.ts";
 * await commandProgress("x", { kind: "not-running" }, {
 *   sent: { sec: 0, nsec: 0 },
 *   check: () => Promise.resolve(true),
 * }); // "done"
 * ```
 */
export async function commandProgress(
  acts: string,
  probe: Probe,
  options: {
    sent: Timestamp;
    check: () => Promise<boolean>;
    ready?: (status: ServiceStatus) => ReadyProgress;
  },
): Promise<Progress> {
  if (probe.kind === "error") return "failed";
  if (probe.kind === "not-running") return acts[0] === "x" ? "done" : "failed";
  const { status } = probe;
  for (const act of acts) {
    const c = act === "C" ? (status.want === "down" ? "d" : "u") : act;
    if (!tookEffect(c, status, options)) return "pending";
    if (!checkScriptApplies(c, status)) continue;
    const ready = options.ready?.(status) ?? "ready";
    if (ready !== "ready") return ready;
    if (!(await options.check())) return "pending";
  }
  return "done";
}

/**
 * How often the wait loop looks again without being woken, in ms (runit's sv:
 * 420): the safety net for changes no file event announces (`./check`
 * passing, a supervisor going away) and the clock for the timeout.
 */
export const POLL_INTERVAL = 100;

/** One pass of {@link waitLoop}, as its step sees it. */
export interface Pass {
  /** When the pass started (sv prints the seconds since a change against it). */
  tnow: Timestamp;
  /** More than `timeout` ms had passed when the pass started: an item still pending is dropped. */
  late: boolean;
}

/** Options for {@link waitLoop}. */
export interface WaitLoopOptions {
  /** When the command was sent (sv: when it started). */
  start: Timestamp;
  /** Passes that start more than this many ms after `start` are late. */
  timeout: number;
  /** Stops the loop: it rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Directories (`…/supervise`) whose changes wake the loop at once (inotify),
   * ahead of the next periodic pass. Watched as directories: runsv replaces
   * `status` by renaming `status.new` over it. One that cannot be watched
   * (missing, out of watches) is only polled.
   */
  watch?: readonly string[];
}

/**
 * sv's wait loop: call `step` for every pending item, then again whenever a
 * directory in `watch` changes (inotify) or
 * {@link POLL_INTERVAL} ms have passed, until each has resolved true (done,
 * or given up). On a late pass, an item whose step resolves false is dropped too: the
 * step reports its timeout (or throws, which ends the loop).
 *
 * @example
 * ```ts
 * import { waitLoop } from "./command.ts";
 * import { now } from "../sys/clock.ts";
 * const ready = new Set<string>();
 * await waitLoop(["web"], (name, { late }) => {
 *   if (!ready.has(name) && late) console.log(`timeout: ${name}`);
 *   return Promise.resolve(ready.has(name));
 * }, { start: now(), timeout: 7000 });
 * ```
 */
export async function waitLoop<T>(
  items: readonly T[],
  step: (item: T, pass: Pass) => Promise<boolean>,
  options: WaitLoopOptions,
): Promise<void> {
  const { signal, start } = options;
  let pending = [...items];
  let tnow = start;
  // Watching starts before the first pass: a change after it is never missed.
  let watch: number | undefined;
  try {
    if (options.watch?.length) watch = watchDirectories(options.watch);
  } catch {
    // Nothing to watch (no supervise/ yet, no inotify): the periodic check alone.
  }
  let polling: Promise<boolean> | undefined;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const elapsed = (tnow.sec - start.sec) * 1000 + (tnow.nsec - start.nsec) / 1e6;
      const pass = { tnow, late: elapsed > options.timeout };
      const still: T[] = [];
      for (const item of pending) {
        if (!(await abortable(step(item, pass), signal)) && !pass.late) still.push(item);
      }
      pending = still;
      if (pending.length === 0) return;
      if (watch === undefined) await sleep(POLL_INTERVAL, signal);
      else await abortable(polling = waitForChange(watch, POLL_INTERVAL), signal);
      tnow = now();
    }
  } finally {
    // The poll runs on a runtime thread for at most POLL_INTERVAL: close after it.
    if (watch !== undefined) {
      if (polling) polling.finally(() => closeFd(watch));
      else closeFd(watch);
    }
  }
}

/** `promise`, or the signal's reason as soon as it aborts (the promise then runs on, ignored). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
