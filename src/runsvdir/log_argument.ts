/**
 * runsvdir's `log` argument: the latest error output, kept in the argument's
 * own bytes so that `ps` shows it. As runit: the first five characters stay
 * (conventionally `log: `), the rest holds the newest bytes, right-aligned;
 * every 15 minutes it shifts left by one and a dot comes in, so old messages
 * fade out.
 *
 * @module
 */

import { ArgumentBytes } from "./proctitle.ts";

/** The characters of the argument that are never overwritten. */
const KEEP = 5;
/** runit's minimum length of the argument. */
export const MIN_LOG_LENGTH = 7;
/** How often a dot is shifted in (runit: 900 s). */
export const LOG_FADE_MS = 900_000;
const DOT = 0x2e;

/**
 * The rotating error display in a command-line argument.
 *
 * @example
 * ```ts ignore
 * import { LogArgument } from "./log_argument.ts";
 * const log = LogArgument.open(Deno.args, Deno.args.length - 1);
 * log?.append(new TextEncoder().encode("runsvdir: warning: ...\n"));
 * ```
 */
export class LogArgument {
  #bytes: ArgumentBytes;
  #buffer: Uint8Array;

  private constructor(bytes: ArgumentBytes, initial: Uint8Array) {
    this.#bytes = bytes;
    this.#buffer = initial;
  }

  /**
   * Take over `args[index]`; undefined when it cannot be written (not Linux,
   * not found in the argument area).
   */
  static open(args: readonly string[], index: number): LogArgument | undefined {
    const bytes = ArgumentBytes.locate(args, index);
    if (!bytes) return undefined;
    const initial = new TextEncoder().encode(args[index]).slice(KEEP);
    return new LogArgument(bytes, initial);
  }

  /** What it shows now, after the kept prefix. */
  get text(): string {
    return new TextDecoder().decode(this.#buffer);
  }

  /** Shift `chunk` in from the right. */
  append(chunk: Uint8Array): void {
    const buffer = this.#buffer;
    const n = Math.min(chunk.length, buffer.length);
    buffer.copyWithin(0, n);
    buffer.set(chunk.subarray(chunk.length - n), buffer.length - n);
    this.#flush();
  }

  /** Shift one dot in (runit does so every 15 minutes). */
  fade(): void {
    this.append(new Uint8Array([DOT]));
  }

  #flush(): void {
    try {
      this.#bytes.write(KEEP, this.#buffer);
    } catch {
      // The display is a convenience; stderr has the same text.
    }
  }

  /** Release the argument area. */
  close(): void {
    this.#bytes.close();
  }
}
