/**
 * Rewrite one of this process's own command-line arguments in place, so that
 * `ps` (which reads `/proc/PID/cmdline`) shows new text. Linux only: the
 * argument area's address comes from `/proc/self/stat` (arg_start), and the
 * bytes are written through `/proc/self/mem`, which a process may write.
 *
 * Deno's permission model refuses `/proc/self/*` to anything short of
 * --allow-all, so these files are reached through the libc layer.
 *
 * @module
 */

import { AT_FDCWD, closeFd, O, openAt, readFileAt, writeAll } from "../sys/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Field 48 of /proc/PID/stat, counted from the state field (3). */
const ARG_START_FIELD = 48 - 3;
const PROC_LIMIT = 1 << 20;

/**
 * The bytes of one command-line argument of this process.
 *
 * @example
 * ```ts ignore
 * import { ArgumentBytes } from "./proctitle.ts";
 * // The last of Deno.args, e.g. runsvdir's "log: ........".
 * const log = ArgumentBytes.locate(Deno.args, Deno.args.length - 1);
 * log?.write(5, new TextEncoder().encode("hello"));
 * log?.close();
 * ```
 */
export class ArgumentBytes {
  /** Its length in bytes (the terminating NUL excluded): the most it can show. */
  readonly length: number;
  #address: number;
  #mem: number;

  private constructor(address: number, length: number, mem: number) {
    this.#address = address;
    this.length = length;
    this.#mem = mem;
  }

  /**
   * Find `args[index]` in this process's argument area. `args` must be the
   * tail of the process's argv (as `Deno.args` is, for the launcher and for
   * a compiled binary). Undefined when it cannot be found or written.
   */
  static locate(args: readonly string[], index: number): ArgumentBytes | undefined {
    try {
      const stat = decoder.decode(readFileAt(AT_FDCWD, "/proc/self/stat", 4096));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const argStart = Number(fields[ARG_START_FIELD]);
      const cmdline = readFileAt(AT_FDCWD, "/proc/self/cmdline", PROC_LIMIT);
      const parts = decoder.decode(cmdline).split("\0");
      parts.pop(); // After the last NUL.
      const at = parts.length - args.length + index;
      if (!Number.isSafeInteger(argStart) || at < 0 || parts[at] !== args[index]) return undefined;
      let offset = 0;
      for (let i = 0; i < at; i++) offset += encoder.encode(parts[i]).length + 1;
      const mem = openAt(AT_FDCWD, "/proc/self/mem", { flags: O.RDWR | O.CLOEXEC });
      return new ArgumentBytes(argStart + offset, encoder.encode(args[index]).length, mem);
    } catch {
      return undefined;
    }
  }

  /** Overwrite the argument's bytes from `offset` on (clipped to its length). */
  write(offset: number, bytes: Uint8Array): void {
    const room = this.length - offset;
    if (room <= 0 || this.#mem < 0) return;
    writeAll(this.#mem, bytes.slice(0, Math.min(room, bytes.length)), {
      at: this.#address + offset,
    });
  }

  /** Release /proc/self/mem. */
  close(): void {
    closeFd(this.#mem);
    this.#mem = -1;
  }
}
