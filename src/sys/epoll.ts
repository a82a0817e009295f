/**
 * epoll(7) and eventfd(2): the kernel side of the one descriptor reactor.
 *
 * @module
 */

import { errno, libc } from "./libc.ts";
import { SysError } from "./errno.ts";
import { O, writeFd } from "./fs.ts";

/** Readiness bits. */
export const EPOLL = { IN: 0x001, OUT: 0x004, ERR: 0x008, HUP: 0x010 } as const;

/** struct epoll_event is packed (12 bytes) on x86_64, padded (16) elsewhere. */
const EVENT_SIZE = Deno.build.arch === "x86_64" ? 12 : 16;
const DATA_OFFSET = Deno.build.arch === "x86_64" ? 4 : 8;

/** One ready descriptor. */
export interface ReadyEvent {
  /** The descriptor. */
  fd: number;
  /** EPOLL bits that are set. */
  events: number;
}

/**
 * An epoll instance.
 *
 * @example
 * ```ts ignore
 * import { Epoll, EPOLL } from "./epoll.ts";
 * const epoll = new Epoll();
 * epoll.add(0, EPOLL.IN);
 * ```
 */
export class Epoll {
  readonly fd: number;
  #buffer: Uint8Array<ArrayBuffer>;
  #view: DataView;
  #capacity: number;

  constructor(capacity = 256) {
    this.fd = libc().epoll_create1(O.CLOEXEC);
    if (this.fd === -1) throw new SysError("create epoll", errno());
    this.#capacity = capacity;
    this.#buffer = new Uint8Array(EVENT_SIZE * capacity);
    this.#view = new DataView(this.#buffer.buffer);
  }

  /** Watch `fd` for `events`. */
  add(fd: number, events: number): void {
    this.#control(1, fd, events);
  }

  /** Stop watching `fd`. */
  remove(fd: number): void {
    this.#control(2, fd, 0);
  }

  #control(operation: number, fd: number, events: number): void {
    const event = new Uint8Array(EVENT_SIZE);
    const view = new DataView(event.buffer);
    view.setUint32(0, events, true);
    view.setBigUint64(DATA_OFFSET, BigInt(fd), true);
    if (libc().epoll_ctl(this.fd, operation, fd, event) === -1) {
      throw new SysError(`watch descriptor ${fd}`, errno());
    }
  }

  /** Wait (on a runtime thread) until something is ready or `timeout` ms pass. */
  async wait(timeout: number): Promise<ReadyEvent[]> {
    const n = await libc().epoll_wait(this.fd, this.#buffer, this.#capacity, timeout);
    const ready: ReadyEvent[] = [];
    for (let i = 0; i < n; i++) {
      const base = i * EVENT_SIZE;
      ready.push({
        events: this.#view.getUint32(base, true),
        fd: Number(this.#view.getBigUint64(base + DATA_OFFSET, true)),
      });
    }
    return ready;
  }
}

/**
 * An eventfd, for waking an epoll wait from this thread.
 *
 * @example
 * ```ts
 * import { makeEventFd, signalEventFd } from "./epoll.ts";
 * signalEventFd(makeEventFd());
 * ```
 */
export function makeEventFd(): number {
  const fd = libc().eventfd(0, O.CLOEXEC | O.NONBLOCK);
  if (fd === -1) throw new SysError("create eventfd", errno());
  return fd;
}

/**
 * Add one to an eventfd's counter, making it readable.
 *
 * @example
 * ```ts
 * import { makeEventFd, signalEventFd } from "./epoll.ts";
 * signalEventFd(makeEventFd());
 * ```
 */
export function signalEventFd(fd: number): void {
  writeFd(fd, new Uint8Array(new BigUint64Array([1n]).buffer));
}
