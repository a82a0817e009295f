/**
 * svlogd's own message lines, and runit's answer to a failed operation on a
 * log directory: say so, pause three seconds, try again, forever.
 *
 * @module
 */

import { errorText, SysError } from "../sys/mod.ts";

/** Where svlogd's own messages go (stderr in the program, a list in tests). */
export interface Reporter {
  /** Print one whole message line (already prefixed, with its newline). */
  write(text: string): void;
  /** Whether `-v` was given. */
  verbose: boolean;
}

/** How long runit pauses before retrying a failed operation. */
const PAUSE_MS = 3000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The errno of a {@link SysError}; anything else is a bug and is rethrown.
 *
 * @example
 * ```ts
 * import { errnoOfError } from "./report.ts";
 * import { SysError } from "../sys/mod.ts";
 * errnoOfError(new SysError("open current", 28)); // 28
 * ```
 */
export function errnoOfError(error: unknown): number {
  if (error instanceof SysError) return error.errno;
  throw error;
}

/**
 * Print `svlogd: warning: TEXT`.
 *
 * @example
 * ```ts
 * import { warn } from "./report.ts";
 * const lines: string[] = [];
 * warn({ write: (t) => lines.push(t), verbose: false }, "processor already running: ./log");
 * ```
 */
export function warn(reporter: Reporter, text: string): void {
  reporter.write(`svlogd: warning: ${text}\n`);
}

/**
 * Print `svlogd: info: TEXT` when `-v` was given.
 *
 * @example
 * ```ts
 * import { info } from "./report.ts";
 * const lines: string[] = [];
 * info({ write: (t) => lines.push(t), verbose: true }, "new: ./log/current");
 * ```
 */
export function info(reporter: Reporter, text: string): void {
  if (reporter.verbose) reporter.write(`svlogd: info: ${text}\n`);
}

/**
 * Print `svlogd: pausing: TEXT` and block for runit's three seconds.
 *
 * @example
 * ```ts ignore
 * import { pause } from "./report.ts";
 * pause({ write: (t) => console.error(t), verbose: false }, "unable to write to current: ./log: no space left on device");
 * ```
 */
export function pause(reporter: Reporter, text: string): void {
  reporter.write(`svlogd: pausing: ${text}\n`);
  sleepSync(PAUSE_MS);
}

/**
 * Run `operation` until it succeeds, pausing after each failure with
 * `svlogd: pausing: WHAT: NAME: ERROR` as runit's pause2 does.
 *
 * @example
 * ```ts
 * import { persist } from "./report.ts";
 * const reporter = { write: (t: string) => console.error(t), verbose: false };
 * persist("unable to rename current", () => 1, { name: "./log", reporter }); // 1
 * ```
 */
export function persist<T>(
  what: string,
  operation: () => T,
  options: { name: string; reporter: Reporter },
): T {
  for (;;) {
    try {
      return operation();
    } catch (error) {
      const code = errnoOfError(error);
      pause(options.reporter, `${what}: ${options.name}: ${errorText(code)}`);
    }
  }
}
