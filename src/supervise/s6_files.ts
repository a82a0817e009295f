/**
 * The files of s6-supervise's service directory that runsv honours too:
 * `down-signal` (the signal sent instead of TERM to stop the service),
 * `timeout-finish` (how long `./finish` may run before it is KILLed) and
 * `notification-fd` (the descriptor `./run` signals readiness on: see
 * readiness.ts). Each is read when it is needed, so an edit takes effect
 * without a restart; a file that is absent means runit's behaviour, a bad
 * one is reported (runit-style, through `warn`) and ignored.
 *
 * @module
 */

import { Errno, errnoOf, errorText } from "../sys/errno.ts";
import { readFileAt } from "../sys/fs.ts";
import { SIG } from "../sys/process.ts";
import { signalFromText } from "../sys/signals.ts";

/** What a reader reports with, e.g. `runsv DIR: warning: …`. */
export interface FileReportOptions {
  /** Called with the text after `warning: `. */
  warn: (message: string) => void;
  /** Where the directory is in the service's, for messages: `log/` for the log service's. */
  prefix?: "" | "log/";
}

/** setTimeout's longest delay: a longer timeout-finish is, in practice, forever. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** The text of `name` in `dirFd` (its first 64 bytes); undefined when absent or unreadable. */
function readText(dirFd: number, name: string, options: FileReportOptions): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readFileAt(dirFd, name, 64);
  } catch (error) {
    const code = errnoOf(error);
    // ENOENT: the usual case, runit's behaviour; anything else is worth a word.
    if (code !== Errno.ENOENT) {
      options.warn(`unable to read ${options.prefix ?? ""}${name}: ${errorText(code)}`);
    }
    return undefined;
  }
  return new TextDecoder().decode(bytes);
}

/** The first line of `name` in `dirFd`, trimmed; undefined when absent or unreadable. */
function firstLine(dirFd: number, name: string, options: FileReportOptions): string | undefined {
  return readText(dirFd, name, options)?.split("\n", 1)[0].trim();
}

/**
 * The signal that stops the service in `dirFd`: what its `down-signal`
 * names (see {@link signalFromText}: `QUIT`, `SIGQUIT`, `3`), else TERM.
 * Bad content is reported and TERM is sent, as s6-supervise does.
 *
 * @example
 * ```ts ignore
 * import { downSignal } from "./s6_files.ts";
 * downSignal(serviceFd, { warn: (text) => console.error(`runsv web: warning: ${text}`) }); // 3
 * ```
 */
export function downSignal(dirFd: number, options: FileReportOptions): number {
  const text = firstLine(dirFd, "down-signal", options);
  if (text === undefined) return SIG.TERM;
  const signal = signalFromText(text);
  if (signal !== undefined) return signal;
  const name = `${options.prefix ?? ""}down-signal`;
  options.warn(`invalid ${name}: ${JSON.stringify(text.slice(0, 32))}: sending TERM`);
  return SIG.TERM;
}

/**
 * How long `./finish` of the service in `dirFd` may run, in ms: what its
 * `timeout-finish` says (decimal digits), 0 for no limit. runit has no such
 * limit, so absent (unlike s6, whose default is 5000), 0 or bad content
 * (reported) means waiting forever.
 *
 * @example
 * ```ts ignore
 * import { finishTimeout } from "./s6_files.ts";
 * finishTimeout(serviceFd, { warn: console.error }); // 0 unless timeout-finish says otherwise
 * ```
 */
export function finishTimeout(dirFd: number, options: FileReportOptions): number {
  const text = firstLine(dirFd, "timeout-finish", options);
  if (text === undefined) return 0;
  if (!/^\d+$/.test(text)) {
    options.warn(`invalid timeout-finish: ${JSON.stringify(text.slice(0, 32))}: no time limit`);
    return 0;
  }
  return Math.min(Number(text), LONGEST_TIMER_MS);
}

/** The highest descriptor number `notification-fd` may name. */
const MAX_NOTIFICATION_FD = 1023;

/**
 * The descriptor number the service in `dirFd` wants its readiness pipe on:
 * what its `notification-fd` holds (decimal, 3 to 1023, blanks around it
 * allowed); undefined when the file is absent, unreadable or bad, or names
 * one of `used` (the descriptors `./run` already gets), all but absence
 * reported.
 *
 * @example
 * ```ts ignore
 * import { notificationFd } from "./s6_files.ts";
 * notificationFd(serviceFd, { warn: console.error, used: [0, 1, 2] }); // 3 when it says "3"
 * ```
 */
export function notificationFd(
  dirFd: number,
  options: FileReportOptions & { used: readonly number[] },
): number | undefined {
  const text = readText(dirFd, "notification-fd", options);
  if (text === undefined) return undefined;
  const digits = text.trim();
  const n = /^\d{1,4}$/.test(digits) ? Number(digits) : -1;
  if (n >= 3 && n <= MAX_NOTIFICATION_FD && !options.used.includes(n)) return n;
  options.warn(`invalid ${options.prefix ?? ""}notification-fd: ${JSON.stringify(digits)}`);
  return undefined;
}
