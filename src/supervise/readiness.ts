/**
 * Readiness notification, the supervisor's side: what `./run` is given and
 * how its readiness is seen and recorded, for one unit (the service, or its
 * log service).
 *
 * - `notification-fd` (s6): the file holds a descriptor number N (3 or
 *   more). `./run` gets the write end of a pipe as fd N; a newline written
 *   on it means ready, and the supervisor then closes its end. End of file
 *   before a newline: not ready for this run.
 * - `notify-socket` (systemd's protocol; the file's content is ignored):
 *   `./run` gets `NOTIFY_SOCKET=@runit/DEV-INO`, an abstract unix datagram
 *   socket named after the unit directory's device and inode, bound while
 *   the supervisor runs. A datagram with a line `READY=1` means ready; the
 *   last `STATUS=…` line is kept in `supervise/status-text`. Datagrams count
 *   only from root, the supervisor's user or the running `./run`'s user, and
 *   only while `./run` runs; descriptors sent along (systemd-notify's
 *   barrier) are closed at once.
 *
 * The moment readiness is seen is written to `supervise/ready` (12 bytes of
 * TAI64N, `ready.new` then rename), which is removed when `./run` exits and
 * before a new `./run` starts. `supervise/notify` names the pid of the
 * `./run` being watched (written before the status names that pid), so that
 * readers can tell a run nobody watches (Debian's runsv, an unusable
 * declaration) from one not ready yet. runit's `status`, `stat` and `pid`
 * files are not touched. Everything is read through the one reactor.
 *
 * @module
 */

import {
  closeFd,
  errnoOf,
  errorText,
  makePipe,
  messageOf,
  now,
  processUid,
  readFd,
  receiveWithFds,
  replaceFileAt,
  setNonBlocking,
  statAt,
  unlinkAt,
} from "../sys/mod.ts";
import { abstractDatagramSocket } from "../sys/socket.ts";
import type { Reactor } from "../reactor/mod.ts";
import { encodeTai64n } from "./status.ts";
import { notificationFd } from "./s6_files.ts";
import { NOTIFY_FILE, notifyKind, READY_FILE, STATUS_TEXT_FILE, STATUS_TEXT_MAX } from "./info.ts";

/** The environment variable that names the notify socket (systemd's). */
export const NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET";

/** What `./run` is given for readiness. */
export interface RunReadiness {
  /** `[N, fd]`: install our pipe's write end as descriptor N. */
  dup?: [number, number];
  /** `NOTIFY_SOCKET=@…`, for the environment. */
  env?: string;
}

/** Where a unit is and how it reports. */
export interface ReadinessOptions {
  /** The unit's directory (the service's own, or its `log/`). */
  unitFd: number;
  /** The unit's files relative to the service directory: "" or "log/". */
  prefix: "" | "log/";
  /** The one reactor, which reads the pipe and the socket. */
  reactor: Reactor;
  /** Where `runsv DIR: warning: …` text goes. */
  warn: (message: string) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** One for every socket of the process: each datagram is handled before the next read. */
const datagram = new Uint8Array(STATUS_TEXT_MAX + 512);

/**
 * One unit's readiness across its runs.
 *
 * @example
 * ```ts ignore
 * import { UnitReadiness } from "./readiness.ts";
 * import { Reactor } from "../reactor/mod.ts";
 * const readiness = new UnitReadiness(serviceFd, {
 *   unitFd: serviceFd, prefix: "", reactor: new Reactor(), warn: console.error,
 * });
 * const given = readiness.beforeRun([0, 1, 2]); // before ./run is spawned
 * readiness.started(pid); // then, with ./run's pid (0 when it could not start)
 * readiness.ended(); // when ./run has exited
 * ```
 */
export class UnitReadiness {
  #serviceFd: number;
  #options: ReadinessOptions;
  /** The pipe's read end while a notification-fd `./run` may still write. */
  #pipe = -1;
  /** The pipe's write end between beforeRun and started. */
  #childEnd = -1;
  /** The notify socket, bound once and kept. */
  #socket = -1;
  #socketName: string | undefined;
  /** The bind failure already reported. */
  #socketFailure: string | undefined;
  /** The running `./run`, 0 when none. */
  #pid = 0;
  #ready = false;
  /** beforeRun gave `./run` a way to notify. */
  #offered = false;

  constructor(serviceFd: number, options: ReadinessOptions) {
    this.#serviceFd = serviceFd;
    this.#options = options;
  }

  /**
   * Before `./run` starts: forget the last run's readiness (and its status
   * text), and say what the new `./run` gets. `used` are the descriptor
   * numbers the unit already installs (a `notification-fd` naming one of
   * them is refused with a warning).
   */
  beforeRun(used: readonly number[]): RunReadiness {
    this.reset();
    this.#remove(STATUS_TEXT_FILE);
    const given = this.#offer(used);
    this.#offered = given.dup !== undefined || given.env !== undefined;
    return given;
  }

  #offer(used: readonly number[]): RunReadiness {
    const kind = notifyKind(this.#options.unitFd);
    if (kind === "fd") return this.#pipeFor(used);
    if (kind === "socket") {
      const name = this.#bind();
      if (name !== undefined) return { env: `${NOTIFY_SOCKET_ENV}=@${name}` };
    }
    return {};
  }

  /** `./run` was started as `pid` (0: it could not be started). */
  started(pid: number): void {
    closeFd(this.#childEnd);
    this.#childEnd = -1;
    this.#pid = pid;
    if (pid === 0) return this.#closePipe();
    if (this.#offered) this.#watching(pid);
    const fd = this.#pipe;
    if (fd >= 0) this.#options.reactor.watch(fd, () => this.#onPipe(fd));
  }

  /**
   * A `./run` a crashed supervisor left running was adopted: its
   * `supervise/ready` stays as it is (it was ready, or it was not). A
   * notification-fd pipe cannot be recovered; the notify socket is bound
   * again under the same name, so the service can still notify.
   */
  adopted(pid: number): void {
    this.#pid = pid;
    this.#ready = statAt(this.#serviceFd, this.#path(READY_FILE)) !== undefined;
    const kind = notifyKind(this.#options.unitFd);
    // A lost pipe can no longer say ready: nobody watches that run any more.
    const watched = kind === "socket" ? this.#bind() !== undefined : kind === "fd" && this.#ready;
    if (watched) this.#watching(pid);
    else this.#remove(NOTIFY_FILE);
  }

  /** Nothing runs (a new supervisor that adopted nothing): remove a stale `ready`. */
  reset(): void {
    this.#closePipe();
    this.#pid = 0;
    this.#ready = false;
    this.#offered = false;
    this.#remove(READY_FILE);
    this.#remove(NOTIFY_FILE);
  }

  /** `./run` exited: it is no longer ready. */
  ended(): void {
    this.#closePipe();
    if (this.#pid === 0 && !this.#ready) return;
    this.#pid = 0;
    this.#ready = false;
    // supervise/notify stays: removed now, a reader could see the old run
    // (the status is written after this) as one nobody watches.
    this.#remove(READY_FILE);
  }

  /** Release the pipe and the socket (the supervisor is closing). */
  close(): void {
    this.#closePipe();
    closeFd(this.#childEnd);
    this.#childEnd = -1;
    if (this.#socket >= 0) {
      this.#options.reactor.unwatch(this.#socket);
      closeFd(this.#socket);
      this.#socket = -1;
    }
  }

  #path(file: string): string {
    return `${this.#options.prefix}${file}`;
  }

  /** Say that `pid`'s readiness is watched, before the status names it. */
  #watching(pid: number): void {
    try {
      replaceFileAt(this.#serviceFd, this.#path(NOTIFY_FILE), encoder.encode(`${pid}\n`));
    } catch (error) {
      this.#options.warn(messageOf(error));
    }
  }

  #remove(file: string): void {
    try {
      unlinkAt(this.#serviceFd, this.#path(file));
    } catch {
      // Absent, or not ours to remove: readers compare its time with the status's.
    }
  }

  /** A pipe for `notification-fd`; nothing (with a warning) when the file is not usable. */
  #pipeFor(used: readonly number[]): RunReadiness {
    const { unitFd, prefix, warn } = this.#options;
    const n = notificationFd(unitFd, { warn, prefix, used });
    if (n === undefined) return {};
    try {
      const [readEnd, writeEnd] = makePipe();
      setNonBlocking(readEnd, true);
      this.#pipe = readEnd;
      this.#childEnd = writeEnd;
    } catch (error) {
      const file = this.#path("notification-fd");
      this.#options.warn(`unable to create pipe for ${file}: ${errorText(errnoOf(error))}`);
      return {};
    }
    return { dup: [n, this.#childEnd] };
  }

  #onPipe(fd: number): void {
    if (fd !== this.#pipe) return;
    const buffer = new Uint8Array(512);
    let n: number;
    try {
      n = readFd(fd, buffer);
    } catch {
      n = 0;
    }
    if (n < 0) return;
    if (n > 0 && !buffer.subarray(0, n).includes(0x0a)) return;
    // A newline: ready, and the pipe has done its work. End of file: never, this run.
    this.#closePipe();
    if (n > 0) this.#markReady();
  }

  #closePipe(): void {
    if (this.#pipe < 0) return;
    this.#options.reactor.unwatch(this.#pipe);
    closeFd(this.#pipe);
    this.#pipe = -1;
  }

  /** The notify socket's name, bound on first use; undefined (reported once) when it cannot be. */
  #bind(): string | undefined {
    if (this.#socket >= 0) return this.#socketName;
    let name: string;
    try {
      const stat = statAt(this.#options.unitFd, "");
      name = `runit/${stat!.dev.toString(16)}-${stat!.ino.toString(16)}`;
      this.#socket = abstractDatagramSocket(name);
    } catch (error) {
      const message = messageOf(error);
      if (this.#socketFailure !== message) this.#options.warn(message);
      this.#socketFailure = message;
      return undefined;
    }
    this.#socketFailure = undefined;
    this.#socketName = name;
    this.#options.reactor.watch(this.#socket, () => this.#onSocket());
    return name;
  }

  #onSocket(): void {
    for (;;) {
      if (this.#socket < 0) return;
      let got;
      try {
        got = receiveWithFds(this.#socket, datagram);
      } catch {
        return;
      }
      if (!got) return;
      for (const fd of got.fds) closeFd(fd);
      if (this.#pid === 0 || !this.#trusted(got.sender?.uid)) continue;
      this.#onMessage(decoder.decode(datagram.subarray(0, got.length)));
    }
  }

  /** Root, our own user, or the user `./run` runs as. */
  #trusted(uid: number | undefined): boolean {
    if (uid === undefined) return false;
    return uid === 0 || uid === processUid("self") || uid === processUid(this.#pid);
  }

  #onMessage(text: string): void {
    let ready = false;
    for (const line of text.split("\n")) {
      if (line === "READY=1") ready = true;
      if (line.startsWith("STATUS=")) {
        const status = encoder.encode(line.slice(7)).subarray(0, STATUS_TEXT_MAX);
        try {
          replaceFileAt(this.#serviceFd, this.#path(STATUS_TEXT_FILE), status);
        } catch (error) {
          this.#options.warn(messageOf(error));
        }
      }
    }
    if (ready) this.#markReady();
  }

  #markReady(): void {
    if (this.#ready || this.#pid === 0) return;
    this.#ready = true;
    try {
      replaceFileAt(this.#serviceFd, this.#path(READY_FILE), encodeTai64n(now()));
    } catch (error) {
      this.#options.warn(messageOf(error));
    }
  }
}
