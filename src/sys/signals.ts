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

const SIG_IGN = 1n;
/** glibc's struct sigaction is 152 bytes; the handler comes first (x86_64, aarch64). */
const SIGACTION_SIZE = 256;

/**
 * Linux signal numbers by name without `SIG` (x86_64 and aarch64 agree;
 * aliases included, as skalibs' table has them).
 */
const LINUX_SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  IOT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  POLL: 29,
  PWR: 30,
  SYS: 31,
};
/** The highest Linux signal number (SIGRTMAX). */
const SIGNAL_MAX = 64;

/**
 * A signal named as s6 reads `down-signal` (skalibs' `sig0_scan`): a name
 * with or without `SIG`, in any case (`QUIT`, `SIGQUIT`, `sigquit`), or a
 * number (`3`, `SIG3`). Undefined for anything else, and for numbers
 * outside 1-64.
 *
 * @example
 * ```ts
 * import { signalFromText } from "./signals.ts";
 * signalFromText("SIGQUIT"); // 3
 * signalFromText("quit"); // 3
 * signalFromText("9"); // 9
 * signalFromText("QUITT"); // undefined
 * ```
 */
export function signalFromText(text: string): number | undefined {
  const plain = (word: string): number | undefined => {
    if (/^\d+$/.test(word)) {
      const number = Number(word);
      return number >= 1 && number <= SIGNAL_MAX ? number : undefined;
    }
    return Object.hasOwn(LINUX_SIGNALS, word.toUpperCase())
      ? LINUX_SIGNALS[word.toUpperCase()]
      : undefined;
  };
  return plain(text) ?? (/^sig/i.test(text) ? plain(text.slice(3)) : undefined);
}

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
  for (let signal = 1; signal <= SIGNAL_MAX; signal++) {
    const action = signal === LINUX_SIGNALS.PIPE ? undefined : currentAction(signal);
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
  const number = LINUX_SIGNALS[signal.slice(3)];
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
