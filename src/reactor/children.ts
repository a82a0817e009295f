/**
 * The reaper: one SIGCHLD listener collects every child with
 * waitpid(-1, WNOHANG) and hands each exit to whoever started it. Safe
 * because every child of a supervisor comes from the one spawn path; a child
 * nobody claims (an orphan re-parented to a PID 1) is simply reaped.
 *
 * @module
 */

import { catchSignal, reapOne, spawn, type SpawnOptions, uncatchSignal } from "../sys/mod.ts";

/** Called with the raw wait status when a child exits. */
export type ExitHandler = (status: number) => void;

/**
 * Starts children and reports their exits.
 *
 * @example
 * ```ts ignore
 * import { Children } from "./children.ts";
 * const children = new Children();
 * children.start(["/bin/true"], {}, (status) => console.log("exited", status));
 * ```
 */
export class Children {
  #handlers = new Map<number, ExitHandler>();
  #listener = () => this.reap();
  #listening = false;
  #backstop: ReturnType<typeof setInterval> | undefined;
  /** Orphans reaped that nobody started (PID 1 duty). */
  orphans = 0;

  constructor() {
    // Listen before the first spawn: a child that exits at once must not
    // wait for the next signal to be noticed.
    catchSignal("SIGCHLD", this.#listener);
    this.#listening = true;
  }

  /** Start a child; `onExit` is called once with its wait status. */
  start(argv: readonly string[], options: SpawnOptions, onExit: ExitHandler): number {
    // Collect what has exited first: when many services exit at once, their
    // handling (status files, restarts) runs as one burst of promise jobs,
    // which the SIGCHLD listener cannot interrupt, so a child exiting during
    // the burst would stay a zombie until it ends. Each spawn in the burst
    // reaps instead. (Before the spawn: a child must be known before it can
    // be reaped.)
    this.reap();
    const pid = spawn(argv, options);
    this.#handlers.set(pid, onExit);
    // A periodic reap while children are out: a safety net should a SIGCHLD
    // be missed, and it keeps the event loop alive until they are reaped.
    this.#backstop ??= setInterval(() => this.reap(), 5000);
    return pid;
  }

  /** Start a child and wait for its wait status. */
  run(argv: readonly string[], options: SpawnOptions): Promise<number> {
    const { promise, resolve } = Promise.withResolvers<number>();
    this.start(argv, options, resolve);
    return promise;
  }

  /** How many started children have not been reaped. */
  get running(): number {
    return this.#handlers.size;
  }

  /** Collect every exited child now. */
  reap(): void {
    for (;;) {
      const exited = reapOne(-1);
      if (!exited) return;
      const handler = this.#handlers.get(exited.pid);
      if (!handler) {
        this.orphans++;
        continue;
      }
      this.#handlers.delete(exited.pid);
      if (this.#handlers.size === 0) this.#stopBackstop();
      handler(exited.status);
    }
  }

  #stopBackstop(): void {
    if (this.#backstop !== undefined) clearInterval(this.#backstop);
    this.#backstop = undefined;
  }

  /** Stop listening for SIGCHLD. */
  close(): void {
    this.#stopBackstop();
    if (!this.#listening) return;
    uncatchSignal("SIGCHLD", this.#listener);
    this.#listening = false;
  }
}
