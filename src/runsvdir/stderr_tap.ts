/**
 * Route this process's standard error, and so its children's, through a pipe
 * that it reads itself (runit's runsvdir does the same when given a `log`
 * argument): every byte is passed on to the original stderr and to a
 * listener.
 *
 * @module
 */

import { closeFd, duplicateFd, makePipe, readFd, replaceFd } from "../sys/mod.ts";
import { BoundedWriter, type Reactor } from "../reactor/mod.ts";

/**
 * Standard error, tapped.
 *
 * @example
 * ```ts ignore
 * import { StderrTap } from "./stderr_tap.ts";
 * import { Reactor } from "../reactor/mod.ts";
 * const tap = StderrTap.install(new Reactor(), (bytes) => console.log(bytes.length));
 * tap.write(new TextEncoder().encode("bypasses the pipe\n"));
 * ```
 */
export class StderrTap {
  #reactor: Reactor;
  #readEnd: number;
  #original: number;
  #out: BoundedWriter;
  #listener: (bytes: Uint8Array) => void;

  private constructor(
    reactor: Reactor,
    fds: { readEnd: number; original: number },
    listener: (bytes: Uint8Array) => void,
    dropped: (lines: number) => string,
  ) {
    this.#reactor = reactor;
    this.#readEnd = fds.readEnd;
    this.#original = fds.original;
    this.#out = new BoundedWriter(fds.original, { reactor, dropped });
    this.#listener = listener;
  }

  /**
   * Put a pipe in place of fd 2 and watch its other end. `dropped` makes the
   * line that reports lines the original stderr could not take.
   */
  static install(
    reactor: Reactor,
    listener: (bytes: Uint8Array) => void,
    options: { dropped?: (lines: number) => string } = {},
  ): StderrTap {
    const original = duplicateFd(2);
    const [readEnd, writeEnd] = makePipe();
    replaceFd(2, writeEnd);
    closeFd(writeEnd);
    const dropped = options.dropped ?? ((lines: number) => `warning: ${lines} lines dropped\n`);
    const tap = new StderrTap(reactor, { readEnd, original }, listener, dropped);
    reactor.watch(readEnd, () => tap.#drain());
    return tap;
  }

  /** Write to the original stderr and tell the listener, without the pipe. */
  write(bytes: Uint8Array<ArrayBuffer>): void {
    this.#pass(bytes);
  }

  #pass(bytes: Uint8Array<ArrayBuffer>): void {
    this.#out.write(bytes);
    this.#listener(bytes);
  }

  #drain(): void {
    const buffer = new Uint8Array(4096);
    // One read per readiness: the reactor calls again while more is waiting.
    const n = readFd(this.#readEnd, buffer);
    if (n > 0) this.#pass(buffer.slice(0, n));
  }

  /** Stop reading; fd 2 gets its original back. */
  close(): void {
    this.#reactor.unwatch(this.#readEnd);
    this.#out.close();
    try {
      replaceFd(2, this.#original);
    } catch {
      // Leave it.
    }
    closeFd(this.#readEnd);
    closeFd(this.#original);
  }
}
