/**
 * Output that never blocks the reactor: our own standard error. A stderr
 * pipe whose reader has stopped would otherwise stop every supervisor of the
 * process at its next warning (runit loses only the one runsv that warned).
 *
 * @module
 */

import { EPOLL, Errno, SysError, writableNow, writeFd } from "../sys/mod.ts";
import type { Reactor } from "./reactor.ts";

/** A write of at most this much does not block once poll says writable (PIPE_BUF). */
const ATOMIC = 4096;
/** The default backlog kept while the descriptor is full. */
const DEFAULT_LIMIT = 64 * 1024;
const NEWLINE = 0x0a;

/** How a {@link BoundedWriter} waits and what it says after dropping. */
export interface BoundedWriterOptions {
  /** The reactor that says when the descriptor can take more. */
  reactor: Reactor;
  /** Bytes kept while the descriptor is full; what comes on top is dropped. 64 KiB. */
  limit?: number;
  /** The line written once the backlog has drained, given how many lines were dropped. */
  dropped: (lines: number) => string;
}

/**
 * Writes to `fd` only what fits without blocking; the rest waits in a
 * bounded backlog, written as the reactor reports room. What does not fit
 * in the backlog is dropped, counted in lines (newlines, at least one per
 * write), and reported by one line once the backlog has drained. A write
 * that fails (a full disk) is dropped and counted the same way; a descriptor
 * with no reader left (EPIPE) or closed drops everything silently: there is
 * nowhere left to report to.
 *
 * @example
 * ```ts ignore
 * import { BoundedWriter } from "./writer.ts";
 * import { Reactor } from "./reactor.ts";
 * const reactor = new Reactor();
 * const stderr = new BoundedWriter(2, {
 *   reactor,
 *   dropped: (lines) => `runsvdir /etc/service: warning: ${lines} lines dropped\n`,
 * });
 * stderr.write(new TextEncoder().encode("runsv web: warning: ...\n"));
 * ```
 */
export class BoundedWriter {
  readonly fd: number;
  #options: BoundedWriterOptions;
  #backlog: Uint8Array<ArrayBuffer>[] = [];
  #size = 0;
  #dropped = 0;
  #watching = false;
  #broken = false;

  constructor(fd: number, options: BoundedWriterOptions) {
    this.fd = fd;
    this.#options = options;
  }

  /** Lines dropped since the last report of them. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Bytes waiting for room. */
  get pending(): number {
    return this.#size;
  }

  /** Write `bytes` now, or as soon as there is room, or drop them; never blocks. */
  write(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.#broken || bytes.length === 0) return;
    // Nothing waiting (a dropped-lines notice goes first): straight through.
    if (this.#backlog.length === 0 && this.#flush()) {
      bytes = this.#writeNow(bytes);
      if (bytes.length === 0 || this.#broken) return;
    }
    if (this.#size + bytes.length > (this.#options.limit ?? DEFAULT_LIMIT)) {
      this.#drop(bytes);
    } else {
      this.#backlog.push(bytes.slice());
      this.#size += bytes.length;
    }
    this.#watch();
  }

  /** Write what fits now and give up the rest (at exit). */
  close(): void {
    this.#flush();
    this.#unwatch();
    this.#backlog = [];
    this.#size = 0;
  }

  /** As much of `bytes` as fits without blocking, written; the rest returned. */
  #writeNow(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
    try {
      while (bytes.length > 0 && writableNow(this.fd)) {
        const n = writeFd(this.fd, bytes.subarray(0, ATOMIC));
        if (n <= 0) break;
        bytes = bytes.subarray(n);
      }
    } catch (error) {
      if (!(error instanceof SysError)) throw error;
      if (error.errno === Errno.EPIPE || error.errno === Errno.EBADF) {
        // Nobody to read it, ever again.
        this.#broken = true;
        this.#backlog = [];
        this.#size = 0;
      } else {
        // A full or failing disk: lost, counted, and said once writes work again.
        this.#drop(bytes);
      }
      return bytes.subarray(bytes.length);
    }
    return bytes;
  }

  #drop(bytes: Uint8Array): void {
    let lines = 0;
    for (const byte of bytes) if (byte === NEWLINE) lines++;
    this.#dropped += Math.max(lines, 1);
  }

  /** Write the backlog, then the dropped-lines notice; true when all is out. */
  #flush(): boolean {
    while (this.#backlog.length > 0 && !this.#broken) {
      const head = this.#backlog[0];
      const rest = this.#writeNow(head);
      this.#size -= head.length - rest.length;
      if (rest.length > 0) {
        this.#backlog[0] = rest;
        return false;
      }
      this.#backlog.shift();
    }
    if (this.#dropped > 0 && !this.#broken) {
      const count = this.#dropped;
      const notice = new TextEncoder().encode(this.#options.dropped(count));
      this.#dropped = 0;
      const rest = this.#writeNow(notice);
      // The notice itself failed (still a full disk): the count stands, for the next time.
      if (this.#dropped > 0) {
        this.#dropped = count;
        return true;
      }
      if (rest.length > 0) {
        this.#backlog.push(rest.slice());
        this.#size += rest.length;
        return false;
      }
    }
    return true;
  }

  #watch(): void {
    if (this.#watching) return;
    try {
      this.#options.reactor.watch(this.fd, () => {
        if (this.#flush() || this.#broken) this.#unwatch();
      }, EPOLL.OUT);
      this.#watching = true;
    } catch {
      // Not pollable (a regular file is always writable): nothing can wait here.
      this.#broken = true;
    }
  }

  #unwatch(): void {
    if (!this.#watching) return;
    this.#options.reactor.unwatch(this.fd);
    this.#watching = false;
  }
}
