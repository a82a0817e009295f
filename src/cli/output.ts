/**
 * Writing to stdout and stderr synchronously, whole lines at a time, as
 * runit's buffer_1/buffer_2 and strerr do.
 *
 * @module
 */

const encoder = new TextEncoder();

function writeAllTo(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += stream.writeSync(bytes.subarray(offset));
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
  writeAllTo(Deno.stdout, text);
}

/**
 * Write `text` to standard error; a closed stderr is not an error worth dying for.
 *
 * @example
 * ```ts
 * import { writeErr } from "./output.ts";
 * writeErr("runsv web: warning: unable to open supervise/status.new: access denied\n");
 * ```
 */
export function writeErr(text: string): void {
  try {
    writeAllTo(Deno.stderr, text);
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
