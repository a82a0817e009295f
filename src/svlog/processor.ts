/**
 * svlogd's processor: `!command` in a log directory's `config` runs on each
 * rotated file, in the background, as runit does. Its standard input is the
 * rotated `@….u`, its output goes to `@….t`, descriptor 4 reads `state` and
 * descriptor 5 writes `newstate`. When it exits 0 (or is killed by a
 * signal), `@….t` becomes `@….s` (mode 0744), the `.u` goes, and `newstate`
 * becomes `state`; when it fails, it runs again on the same file.
 *
 * @module
 */

import {
  chmodAt,
  closeFd,
  errorText,
  O,
  openAt,
  renameAt,
  SysError,
  unlinkAt,
} from "../sys/mod.ts";
import type { Children } from "../reactor/mod.ts";
import { errnoOfError, info, persist, type Reporter, warn } from "./report.ts";

/** Options for a {@link Processor}. */
export interface ProcessorOptions {
  /** The log directory as named on the command line (for messages). */
  name: string;
  /** Messages. */
  reporter: Reporter;
  /** The reaper that starts and collects processors. */
  children: Children;
}

/**
 * The processor of one log directory: at most one runs at a time.
 *
 * @example
 * ```ts ignore
 * import { Processor } from "./processor.ts";
 * import { Children } from "../reactor/mod.ts";
 * import { AT_FDCWD, O, openAt } from "../sys/mod.ts";
 * const dirFd = openAt(AT_FDCWD, "./log", { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
 * const processor = new Processor({
 *   name: "./log",
 *   reporter: { write: (t) => console.error(t), verbose: false },
 *   children: new Children(),
 * });
 * processor.start("@400000006565a3a000000000.u", { dirFd, command: "gzip" });
 * await processor.idle(); // @….s now holds the compressed file
 * ```
 */
export class Processor {
  #name: string;
  #reporter: Reporter;
  #children: Children;
  #pid = 0;
  #dirFd = -1;
  #command = "";
  #input = "";
  #generation = 0;
  #idle: Array<() => void> = [];

  constructor(options: ProcessorOptions) {
    this.#name = options.name;
    this.#reporter = options.reporter;
    this.#children = options.children;
  }

  /** Whether a processor is running. */
  get busy(): boolean {
    return this.#pid !== 0;
  }

  /** Resolves when no processor runs. */
  idle(): Promise<void> {
    if (this.#pid === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Run `command` (with `sh -c`) on `input`, a rotated `.u` file in the
   * directory `dirFd`, in the background. Warns and does nothing while one
   * runs already.
   */
  start(input: string, options: { dirFd: number; command: string }): void {
    if (this.#pid !== 0) {
      warn(this.#reporter, `processor already running: ${this.#name}`);
      return;
    }
    this.#dirFd = options.dirFd;
    this.#command = options.command;
    this.#input = input;
    this.#run();
  }

  /**
   * Forget a running processor, as runit does when the directory is closed
   * or reopened: its exit changes nothing, and {@link Processor.idle} resolves.
   */
  forget(): void {
    this.#generation++;
    this.#pid = 0;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  #run(): void {
    const name = this.#name;
    const input = this.#input;
    info(this.#reporter, `processing: ${name}/${input}`);
    const output = `${input.slice(0, 26)}t`;
    const opened: number[] = [];
    const open = (what: string, path: string, flags: number) => {
      try {
        const fd = openAt(this.#dirFd, path, { flags: flags | O.CLOEXEC, mode: 0o644 });
        opened.push(fd);
        return fd;
      } catch (error) {
        throw new Error(`${what}: ${name}: ${errorText(errnoOfError(error))}`);
      }
    };
    const truncate = O.WRONLY | O.NONBLOCK | O.TRUNC | O.CREAT;
    try {
      const stdin = open("unable to open input for processor", input, O.RDONLY | O.NONBLOCK);
      const stdout = open("unable to open output for processor", output, truncate);
      const state = open("unable to open state for processor", "state", O.RDONLY | O.CREAT);
      const next = open("unable to open newstate for processor", "newstate", truncate);
      const generation = this.#generation;
      this.#pid = this.#children.start(["sh", "-c", this.#command], {
        path: "/bin/sh",
        cwdFd: this.#dirFd,
        dup: [[0, stdin], [1, stdout], [4, state], [5, next]],
      }, (status) => this.#exited(generation, status));
    } catch (error) {
      // runit's child dies with this message; there is no child to retry here.
      const text = error instanceof SysError
        ? `unable to run processor: ${name}: ${errorText(error.errno)}`
        : (error as Error).message;
      this.#reporter.write(`svlogd: fatal: ${text}\n`);
    } finally {
      for (const fd of opened) closeFd(fd);
    }
  }

  #exited(generation: number, status: number): void {
    // The directory was closed or reopened meanwhile: runit forgets that processor.
    if (generation !== this.#generation) return;
    this.#pid = 0;
    const dirFd = this.#dirFd;
    const name = this.#name;
    const input = this.#input;
    const output = `${input.slice(0, 26)}t`;
    const retry = { name, reporter: this.#reporter };
    // djb's wait_exitcode: a processor killed by a signal counts as success.
    if (((status >> 8) & 0xff) !== 0) {
      warn(this.#reporter, `processor failed, restart: ${name}`);
      try {
        unlinkAt(dirFd, output);
      } catch {
        // Nothing was written.
      }
      this.#run();
      if (this.#pid !== 0) return;
    } else {
      const done = `${input.slice(0, 26)}s`;
      persist("unable to rename processed", () => renameAt(dirFd, output, done), retry);
      persist("unable to set mode of processed", () => chmodAt(dirFd, done, 0o744), retry);
      try {
        unlinkAt(dirFd, input);
      } catch {
        warn(this.#reporter, `unable to unlink: ${name}/${input}`);
      }
      persist("unable to rename state", () => renameAt(dirFd, "newstate", "state"), retry);
      info(this.#reporter, `processed: ${name}/${done}`);
    }
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
