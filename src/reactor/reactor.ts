/**
 * The one descriptor reactor: every descriptor a process waits on sits in a
 * single epoll set, waited on by one runtime thread, however many there are.
 * (A pending `Deno.FsFile.read()` holds a thread per descriptor; fifty of
 * them hang the runtime.)
 *
 * @module
 */

import { closeFd, EPOLL, Epoll, makeEventFd, readFd, signalEventFd } from "../sys/mod.ts";

/** Called with the EPOLL bits that are ready. */
export type ReadyHandler = (events: number) => void;

/**
 * Waits on many descriptors at once and calls each one's handler when it is
 * ready. A handler that throws is reported through `onError` and does not
 * disturb the others.
 *
 * @example
 * ```ts
 * import { Reactor } from "./reactor.ts";
 * import { makePipe, writeFd } from "../sys/mod.ts";
 * const [readEnd, writeEnd] = makePipe();
 * const reactor = new Reactor();
 * const running = reactor.run();
 * const readable = new Promise<void>((resolve) => reactor.watch(readEnd, () => resolve()));
 * writeFd(writeEnd, new TextEncoder().encode("x"));
 * await readable;
 * reactor.stop();
 * await running;
 * ```
 */
export class Reactor {
  #epoll = new Epoll(512);
  #wake = makeEventFd();
  #handlers = new Map<number, ReadyHandler>();
  #running = false;
  #stopping = false;
  #onError: (error: unknown) => void;

  constructor(options: { onError?: (error: unknown) => void } = {}) {
    this.#onError = options.onError ?? ((error) => console.error(error));
    this.#epoll.add(this.#wake, EPOLL.IN);
  }

  /** Call `handler` whenever `fd` is readable (level-triggered). */
  watch(fd: number, handler: ReadyHandler, events: number = EPOLL.IN): void {
    this.#epoll.add(fd, events);
    this.#handlers.set(fd, handler);
  }

  /** Stop watching `fd` (before it is closed). */
  unwatch(fd: number): void {
    if (!this.#handlers.delete(fd)) return;
    try {
      this.#epoll.remove(fd);
    } catch {
      // Already closed: the kernel dropped it from the set.
    }
  }

  /** How many descriptors are watched. */
  get size(): number {
    return this.#handlers.size;
  }

  /** Dispatch readiness until {@link Reactor.stop} is called. */
  async run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    const drain = new Uint8Array(8);
    while (!this.#stopping) {
      const ready = await this.#epoll.wait(-1);
      for (const { fd, events } of ready) {
        if (fd === this.#wake) {
          readFd(this.#wake, drain);
          continue;
        }
        const handler = this.#handlers.get(fd);
        if (!handler) continue;
        try {
          handler(events);
        } catch (error) {
          this.#onError(error);
        }
      }
    }
    this.#running = false;
  }

  /** Make {@link Reactor.run} return after the current dispatch. */
  stop(): void {
    this.#stopping = true;
    signalEventFd(this.#wake);
  }

  /** Release the epoll set (after run has returned). */
  close(): void {
    closeFd(this.#epoll.fd);
    closeFd(this.#wake);
  }
}
