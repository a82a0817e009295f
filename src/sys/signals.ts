/**
 * Signal dispositions as a C supervisor has them: what our parent ignored
 * stays ignored, here and in every child from the one spawn path, unless
 * this process catches it.
 *
 * Deno gets in the way twice. At start-up it ignores SIGPIPE (so an
 * inherited ignore of SIGPIPE cannot be told apart: it is never passed on).
 * And its first signal listener, for whatever signal, installs its own
 * handlers for SIGHUP, SIGINT and SIGTERM, which end the process when no
 * listener is there, whatever our parent had ignored (`nohup` would no
 * longer work). So every listener goes through {@link catchSignal}: it
 * notes which signals are ignored before the first one, and puts those
 * ignores back afterwards for every signal that nobody here listens to.
 * (Deno's handler is kept and put back should a listener come later.)
 *
 * @module
 */

import { libc } from "./libc.ts";

const SIGPIPE = 13;
const SIG_IGN = 1n;
/** glibc's struct sigaction is 152 bytes; the handler comes first (x86_64, aarch64). */
const SIGACTION_SIZE = 256;

/** Linux numbers of Deno's signal names (x86_64 and aarch64 agree). */
const NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPWR: 30,
  SIGSYS: 31,
};

let ignoredAtStart: readonly number[] | undefined;
/** Listeners per signal number, through catchSignal. */
const listening = new Map<number, number>();
/** Deno's handlers that {@link keepIgnores} replaced by SIG_IGN, to put back for a listener. */
const displaced = new Map<number, Uint8Array<ArrayBuffer>>();

/** The handler of `signal` now (its struct sigaction), or undefined when glibc refuses it. */
function currentAction(signal: number): Uint8Array<ArrayBuffer> | undefined {
  const action = new Uint8Array(SIGACTION_SIZE);
  return libc().sigaction(signal, null, action) === 0 ? action : undefined;
}

function isIgnore(action: Uint8Array<ArrayBuffer>): boolean {
  return new BigUint64Array(action.buffer, 0, 1)[0] === SIG_IGN;
}

/**
 * The signals our parent had ignored, SIGPIPE aside, read on the first call
 * (which {@link catchSignal} makes before the first listener). Deno changes
 * no other disposition at start-up (it catches SIGSEGV and SIGBUS only when
 * they are at their default).
 *
 * @example
 * ```ts
 * import { inheritedIgnores } from "./signals.ts";
 * inheritedIgnores().includes(1); // true under nohup
 * ```
 */
export function inheritedIgnores(): readonly number[] {
  if (ignoredAtStart) return ignoredAtStart;
  const found: number[] = [];
  // glibc refuses its own two (32, 33) with EINVAL.
  for (let signal = 1; signal <= 64; signal++) {
    const action = signal === SIGPIPE ? undefined : currentAction(signal);
    if (action && isIgnore(action)) found.push(signal);
  }
  ignoredAtStart = found;
  return ignoredAtStart;
}

/**
 * The signals a child should get ignored: those our parent had ignored
 * (SIGPIPE aside) and that nobody here catches. Also makes sure they are
 * ignored here now (see the module notes).
 *
 * @example
 * ```ts
 * import { ignoresToPassOn } from "./signals.ts";
 * ignoresToPassOn(); // [] unless our parent ignored some
 * ```
 */
export function ignoresToPassOn(): number[] {
  const passed = inheritedIgnores().filter((signal) => !listening.get(signal));
  keepIgnores(passed);
  return passed;
}

/** Put SIG_IGN back where a Deno handler took its place. */
function keepIgnores(signals: readonly number[]): void {
  const ignore = new Uint8Array(SIGACTION_SIZE);
  new BigUint64Array(ignore.buffer, 0, 1)[0] = SIG_IGN;
  for (const signal of signals) {
    const action = currentAction(signal);
    if (!action || isIgnore(action)) continue;
    displaced.set(signal, action);
    libc().sigaction(signal, ignore, null);
  }
}

function numberOf(signal: Deno.Signal): number {
  const number = NUMBERS[signal];
  if (number === undefined) throw new TypeError(`unknown signal ${signal}`);
  return number;
}

/**
 * Listen for `signal` (Deno.addSignalListener), keeping what our parent
 * ignored ignored for every other signal. Every signal listener of the
 * project goes through here (as runit's sig_catch).
 *
 * @example
 * ```ts ignore
 * import { catchSignal } from "./signals.ts";
 * catchSignal("SIGTERM", () => console.log("TERM"));
 * ```
 */
export function catchSignal(signal: Deno.Signal, handler: () => void): void {
  inheritedIgnores();
  const number = numberOf(signal);
  listening.set(number, (listening.get(number) ?? 0) + 1);
  const handlerOfDeno = displaced.get(number);
  if (handlerOfDeno) {
    libc().sigaction(number, handlerOfDeno, null);
    displaced.delete(number);
  }
  Deno.addSignalListener(signal, handler);
  keepIgnores(inheritedIgnores().filter((other) => !listening.get(other)));
}

/**
 * Stop listening (Deno.removeSignalListener); a signal our parent ignored
 * is ignored again once nobody listens.
 *
 * @example
 * ```ts
 * import { catchSignal, uncatchSignal } from "./signals.ts";
 * const onTerm = () => {};
 * catchSignal("SIGTERM", onTerm);
 * uncatchSignal("SIGTERM", onTerm);
 * ```
 */
export function uncatchSignal(signal: Deno.Signal, handler: () => void): void {
  Deno.removeSignalListener(signal, handler);
  const number = numberOf(signal);
  const left = Math.max(0, (listening.get(number) ?? 0) - 1);
  if (left > 0) {
    listening.set(number, left);
    return;
  }
  listening.delete(number);
  if (inheritedIgnores().includes(number)) keepIgnores([number]);
}
