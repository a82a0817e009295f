/**
 * Writing to stdout and stderr synchronously, whole lines at a time, as
 * runit's buffer_1/buffer_2 and strerr do.
 *
 * @module
 */

import { writeAll } from "../sys/descriptors.ts";
import { encodeName } from "../sys/fs.ts";

const encoder = new TextEncoder();

/**
 * The bytes to write: a string encoded (a name's bytes that are not UTF-8 as
 * those bytes, as runit prints them); bytes as they are (FFI wants an
 * ArrayBuffer's).
 */
function bytesOf(text: string | Uint8Array): Uint8Array<ArrayBuffer> {
  if (typeof text === "string") return encodeName(text);
  return text.buffer instanceof ArrayBuffer ? text as Uint8Array<ArrayBuffer> : text.slice();
}

/**
 * Write `text` to standard output.
 *
 * @example
 * ```ts
 * import { writeOut } from "./output.ts";
 * writeOut("run: web: (pid 1) 5s\n");
 * ```
 */
export function writeOut(text: string): void {
  writeAll(1, encoder.encode(text));
}

/**
 * Write `text` (or bytes) to standard error; a closed stderr is not an error
 * worth dying for.
 *
 * @example
 * ```ts
 * import { writeErr } from "./output.ts";
 * writeErr("runsv web: warning: unable to open supervise/status.new: access denied\n");
 * ```
 */
export function writeErr(text: string | Uint8Array): void {
  try {
    writeAll(2, bytesOf(text));
  } catch {
    // Nowhere left to report to.
  }
}

/** Thrown to end an applet with an exit code after its message is printed. */
export class Exit extends Error {
  /** The process exit code. */
  readonly code: number;

  /**
   * End the applet with exit `code`.
   *
   * @example
   * ```ts ignore
   * import { Exit } from "./output.ts";
   * throw new Exit(111);
   * ```
   */
  constructor(code: number) {
    super(`exit ${code}`);
    this.name = "Exit";
    this.code = code;
  }
}

/**
 * Print runit's usage message (`usage: PROG ARGS`, then a blank line, as
 * strerr_die does) to stderr and end with `code`.
 *
 * @example
 * ```ts ignore
 * import { usage } from "./output.ts";
 * usage("runsv", { args: " dir", code: 1 });
 * ```
 */
export function usage(program: string, options: { args: string; code: number }): never {
  writeErr(`usage: ${program}${options.args}\n\n`);
  throw new Exit(options.code);
}
