/**
 * One log directory: its lock, its `current` file and the bytes waiting to
 * go there, rotation to `@<tai64n>.s` (or `.u` for the processor, which
 * processor.ts runs), removal of old files, and runit's retry-forever answer
 * to write errors (a full filesystem pauses, or with `N` deletes the oldest
 * file).
 *
 * Rotation happens only between lines and only after every buffered byte
 * has reached `current`, so no line is ever split across two files.
 *
 * @module
 */

import {
  AT_FDCWD,
  chmodFd,
  chownFd,
  closeFd,
  Errno,
  errnoOf,
  errorText,
  listDir,
  LOCK,
  now,
  O,
  openAt,
  readFileAt,
  renameAt,
  S,
  statAt,
  syncFd,
  SysError,
  tryLock,
  unlinkAt,
  writeFd,
} from "../sys/mod.ts";
import type { Children } from "../reactor/mod.ts";
import { type LogConfig, parseConfig } from "./config.ts";
import { Processor } from "./processor.ts";
import { errnoOfError, info, pause, persist, type Reporter, warn } from "./report.ts";
import { rotatedName } from "./timestamp.ts";

export type { Reporter } from "./report.ts";

/** Beyond this, a buffered partial line is written out anyway. */
const LINE_BUFFER_LIMIT = 1 << 24;

/** Options for a {@link LogDir}. */
export interface LogDirOptions {
  /** Messages. */
  reporter: Reporter;
  /** The reaper that starts and collects processors. */
  children: Children;
  /** `-l`: the line length that bounds matching and the rotation margin. */
  lineMax: number;
  /** Bytes buffered before a write (default 64 KiB; the buffer grows for long lines). */
  bufferSize?: number;
  /**
   * A buffer shared with other logs that are never filled at the same time
   * (hosted logs: each is flushed before the host returns to its reactor);
   * it replaces bufferSize. Growing it grows it for all.
   */
  sharedBuffer?: { bytes: Uint8Array<ArrayBuffer> };
  /**
   * A failed write (a full disk) is not retried here, which would block the
   * process: the bytes stay buffered, {@link LogDir.stalled} is set, and the
   * caller retries {@link LogDir.flush} later (a hosting supervisor).
   */
  deferWrites?: boolean;
  /**
   * Who files created here belong to (a hosted logger: the logger's user,
   * while the supervisor, usually root, writes them).
   */
  owner?: { uid: number; gid: number };
}

/** The descriptors of a log directory that another process opened and locked. */
export interface AdoptedFds {
  /** The directory. */
  dirFd: number;
  /** Its `lock`, flocked by the process that opened it (the lock goes with the description). */
  lockFd: number;
  /** Its `current`, open for appending. */
  currentFd: number;
}

/**
 * One log directory as svlogd keeps it.
 *
 * @example
 * ```ts ignore
 * import { LogDir } from "./logdir.ts";
 * import { Children } from "../reactor/mod.ts";
 * const children = new Children();
 * const dir = new LogDir("./log", {
 *   reporter: { write: (t) => console.error(t), verbose: false },
 *   children,
 *   lineMax: 1000,
 * });
 * if (dir.open()) {
 *   dir.put(new TextEncoder().encode("hello\n"));
 *   dir.flush();
 *   dir.close();
 * }
 * ```
 */
export class LogDir {
  /** The directory as named on the command line. */
  readonly name: string;
  /** Settings from `config` (defaults until opened). */
  config: LogConfig = parseConfig(new Uint8Array(0));
  /** Bytes in `current`, counting those still buffered. */
  size = 0;
  /** A size or age rotation is due before the next line. */
  rotatePending = false;
  /** When `t` rotation is next due (ms since the epoch), 0 when unset. */
  rotateAt = 0;
  /** Set by the line engine: `+` when the current line goes to this log. */
  match = 0x2b;
  /** Set by the line engine: `e` when the current line goes to stderr. */
  matchErr = 0x45;

  #dirFd = -1;
  #currentFd = -1;
  #lockFd = -1;
  #reporter: Reporter;
  #processor: Processor;
  #lineMax: number;
  #store: { bytes: Uint8Array<ArrayBuffer> };
  #used = 0;
  #whole = 0;
  #owner: { uid: number; gid: number } | undefined;
  #shared: { bytes: Uint8Array<ArrayBuffer> } | undefined;
  #deferWrites: boolean;
  #stalled = false;

  constructor(name: string, options: LogDirOptions) {
    this.name = name;
    this.#reporter = options.reporter;
    this.#processor = new Processor({
      name,
      reporter: options.reporter,
      children: options.children,
    });
    this.#lineMax = options.lineMax;
    this.#store = options.sharedBuffer ?? { bytes: new Uint8Array(options.bufferSize ?? 65536) };
    this.#shared = options.sharedBuffer;
    this.#owner = options.owner;
    this.#deferWrites = options.deferWrites ?? false;
  }

  /** Whether the directory is open (lines go to it). */
  get isOpen(): boolean {
    return this.#dirFd !== -1;
  }

  /** The open directory's descriptors (for a handover), undefined when it is not open. */
  descriptors(): AdoptedFds | undefined {
    if (this.#dirFd === -1 || this.#currentFd === -1) return undefined;
    return { dirFd: this.#dirFd, lockFd: this.#lockFd, currentFd: this.#currentFd };
  }

  /** With deferWrites: a write failed and bytes wait in the buffer for a later flush. */
  get stalled(): boolean {
    return this.#stalled;
  }

  /** Whether a processor is running for this log. */
  get processorBusy(): boolean {
    return this.#processor.busy;
  }

  #warn(text: string): void {
    warn(this.#reporter, text);
  }

  #info(text: string): void {
    info(this.#reporter, text);
  }

  /** Retry `operation` until it succeeds, pausing as runit's pause2 does. */
  #persist<T>(what: string, operation: () => T): T {
    return persist(what, operation, { name: this.name, reporter: this.#reporter });
  }

  /**
   * Open the directory, lock it, read `config`, and open `current` (a
   * non-empty `current` without its executable bit was left by a logger
   * that died: it is saved as `@….u` first). False (after a warning) when
   * the directory is unusable.
   */
  open(): boolean {
    try {
      this.#dirFd = openAt(AT_FDCWD, this.name, { flags: O.RDONLY | O.NONBLOCK | O.CLOEXEC });
    } catch (error) {
      this.#warn(`unable to open log directory: ${this.name}: ${errorText(errnoOfError(error))}`);
      return false;
    }
    const kind = (statAt(this.#dirFd, "")?.mode ?? 0) & S.IFMT;
    if (kind !== S.IFDIR) {
      this.close();
      this.#warn(`unable to change directory: ${this.name}: ${errorText(Errno.ENOTDIR)}`);
      return false;
    }
    try {
      this.#lockFd = openAt(this.#dirFd, "lock", {
        flags: O.WRONLY | O.APPEND | O.CREAT | O.NONBLOCK | O.CLOEXEC,
        mode: 0o600,
      });
      if (!tryLock(this.#lockFd, LOCK.EX)) throw new SysError("lock", Errno.EAGAIN);
    } catch (error) {
      this.close();
      this.#warn(`unable to lock directory: ${this.name}: ${errorText(errnoOfError(error))}`);
      return false;
    }
    return this.#openCurrentFile();
  }

  /**
   * Take over a directory that a logger opened, locked and began (its
   * `current` is open): what a hosting supervisor does with the descriptors
   * a handed-over svlogd sent. `config` is read again, without messages
   * (the logger has said what it had to say about it).
   */
  adopt(fds: AdoptedFds): void {
    this.close();
    this.#dirFd = fds.dirFd;
    this.#lockFd = fds.lockFd;
    this.#currentFd = fds.currentFd;
    this.rotatePending = false;
    this.#processor.forget();
    this.match = 0x2b;
    this.#readConfig({ quiet: true });
    this.size = statAt(this.#currentFd, "")?.size ?? 0;
  }

  /**
   * svlogd's HUP for a directory known only by its descriptor (hosted):
   * `current` is completed and closed as by {@link LogDir.close}, then
   * `config` is read again and `current` reopened in the same directory.
   * False (after a warning) when it cannot be.
   */
  reopen(): boolean {
    if (!this.isOpen) return false;
    this.#closeCurrent();
    return this.#openCurrentFile();
  }

  /** open()'s second half: config, then `current` (saving a crashed one). */
  #openCurrentFile(): boolean {
    this.size = 0;
    this.rotatePending = false;
    this.#processor.forget();
    this.match = 0x2b;
    this.#readConfig();

    let fresh = false;
    let current;
    try {
      current = statAt(this.#dirFd, "current");
    } catch (error) {
      this.close();
      this.#warn(`unable to stat current: ${this.name}: ${errorText(errnoOfError(error))}`);
      return false;
    }
    if (current === undefined) fresh = true;
    else if (current.size > 0 && (current.mode & S.IXUSR) === 0) {
      const saved = this.#freshName("u");
      this.#persist("unable to rename current", () => renameAt(this.#dirFd, "current", saved));
      this.#removeOldest(saved);
      fresh = true;
    } else this.size = current.size;
    this.#currentFd = this.#persist("unable to open current", () => this.#openCurrent());
    this.#persist("unable to set mode of current", () => chmodFd(this.#currentFd, 0o644));
    this.#info(`${fresh ? "new" : "append"}: ${this.name}/current`);
    return true;
  }

  #readConfig(options: { quiet?: boolean } = {}): void {
    let bytes: Uint8Array | undefined;
    try {
      bytes = readFileAt(this.#dirFd, "config", 1 << 20);
    } catch (error) {
      const code = errnoOfError(error);
      if (code !== Errno.ENOENT && !options.quiet) {
        this.#warn(`unable to read config: ${this.name}: ${errorText(code)}`);
      }
    }
    this.config = parseConfig(bytes ?? new Uint8Array(0));
    if (bytes === undefined) return;
    if (!options.quiet) {
      this.#info(`read: ${this.name}/config`);
      for (const warning of this.config.warnings) this.#warn(warning);
    }
    if (this.config.timeMax > 0) this.rotateAt = Date.now() + this.config.timeMax * 1000;
  }

  #openCurrent(): number {
    const fd = openAt(this.#dirFd, "current", {
      flags: O.WRONLY | O.APPEND | O.CREAT | O.NONBLOCK | O.CLOEXEC,
      mode: 0o600,
    });
    if (this.#owner) {
      // As if the logger had created it: its uid, and its gid unless the
      // directory is set-group-ID (then the file has the directory's group).
      const setgid = ((statAt(this.#dirFd, "")?.mode ?? 0) & 0o2000) !== 0;
      try {
        chownFd(fd, this.#owner.uid, setgid ? -1 : this.#owner.gid);
      } catch (error) {
        closeFd(fd);
        throw error;
      }
    }
    return fd;
  }

  /** A `@<tai64n>.x` name that does not exist yet. */
  #freshName(suffix: "s" | "u"): string {
    for (;;) {
      const name = rotatedName(now(), suffix);
      if (statAt(this.#dirFd, name, { followLinks: false }) === undefined) return name;
    }
  }

  /** The 27-byte `@…` names in the directory. */
  #oldFiles(): string[] {
    try {
      // By descriptor: a hosted directory has no name that is usable here.
      return listDir(this.#dirFd, ".").map((entry) => entry.name).filter((name) =>
        name.length === 27 && name[0] === "@"
      );
    } catch (error) {
      this.#warn(`unable to read directory: ${this.name}: ${errorText(errnoOf(error))}`);
      return [];
    }
  }

  /** After a rotation: drop processor leftovers, and the oldest file beyond `n`. */
  #removeOldest(pending: string): void {
    let oldest = "";
    let count = 0;
    for (const name of this.#oldFiles()) {
      if (name[26] === "t") {
        try {
          unlinkAt(this.#dirFd, name);
        } catch (error) {
          const text = errorText(errnoOfError(error));
          this.#warn(`unable to unlink processor leftover: ${name}: ${text}`);
        }
        continue;
      }
      count++;
      // Never the .u a processor is about to read, even if the clock went back.
      if ((oldest === "" || name < oldest) && name !== pending) oldest = name;
    }
    if (this.config.countMax > 0 && count > this.config.countMax) {
      this.#info(`delete: ${this.name}/${oldest}`);
      if (oldest === "") return;
      try {
        unlinkAt(this.#dirFd, oldest);
      } catch (error) {
        this.#warn(
          `unable to unlink oldest logfile: ${this.name}: ${errorText(errnoOfError(error))}`,
        );
      }
    }
  }

  /**
   * Queue bytes for `current`. A full buffer is written only up to the end
   * of its last whole line (see {@link LogDir.lineEnded}), so that every
   * write(2) holds whole lines and a KILL never leaves half a line behind.
   */
  put(bytes: Uint8Array, start = 0, end = bytes.length): void {
    const length = end - start;
    this.size += length;
    if (this.#used + length > this.#store.bytes.length) {
      if (this.#whole > 0 && !this.#stalled) {
        const whole = this.#whole;
        this.#drop(this.#writeOut(this.#store.bytes.subarray(0, whole)));
      }
      const buffer = this.#store.bytes;
      if (this.#used + length > buffer.length) {
        if (this.#used + length > LINE_BUFFER_LIMIT && !this.#stalled) {
          // An over-long line: give up on whole-line writes for it.
          this.flush();
          if (!this.#stalled) {
            const rest = bytes.subarray(start, end) as Uint8Array<ArrayBuffer>;
            const written = this.#writeOut(rest);
            if (written === rest.length) return;
            start += written;
          }
        }
        const grown = new Uint8Array(Math.max(buffer.length * 2, this.#used + end - start));
        grown.set(buffer.subarray(0, this.#used));
        this.#store = { bytes: grown };
      }
    }
    this.#store.bytes.set(bytes.subarray(start, end), this.#used);
    this.#used += end - start;
  }

  /** Mark the end of a whole line (or of a run of whole lines) in the buffer. */
  commit(): void {
    this.#whole = this.#used;
  }

  /** Write every buffered byte to `current`, retrying as runit does (see deferWrites). */
  flush(): void {
    if (this.#used === 0) return;
    this.#drop(this.#writeOut(this.#store.bytes.subarray(0, this.#used)));
  }

  /** `count` buffered bytes were written: drop them; a shared buffer left non-empty becomes our own. */
  #drop(count: number): void {
    const buffer = this.#store.bytes;
    buffer.copyWithin(0, count, this.#used);
    this.#used -= count;
    this.#whole = Math.max(0, this.#whole - count);
    if (this.#used > 0 && this.#store === this.#shared) {
      this.#store = { bytes: buffer.slice() };
    } else if (this.#used === 0 && this.#shared && this.#store !== this.#shared) {
      this.#store = this.#shared;
    }
  }

  /** Write `bytes` to `current`: the count written, all of it unless deferWrites. */
  #writeOut(bytes: Uint8Array<ArrayBuffer>): number {
    let offset = 0;
    while (offset < bytes.length) {
      let code: number;
      try {
        const n = writeFd(this.#currentFd, bytes.subarray(offset));
        if (n >= 0) {
          offset += n;
          continue;
        }
        code = Errno.EAGAIN;
      } catch (error) {
        code = errnoOfError(error);
      }
      if (code === Errno.ENOSPC && this.#freeSpace()) continue;
      const text = `unable to write to current: ${this.name}: ${errorText(code)}`;
      if (this.#deferWrites) {
        this.#reporter.write(`svlogd: pausing: ${text}\n`);
        this.#stalled = true;
        return offset;
      }
      pause(this.#reporter, text);
    }
    this.#stalled = false;
    return offset;
  }

  /** On a full filesystem with `N` below `n`: delete the oldest old file. */
  #freeSpace(): boolean {
    if (this.config.countMin >= this.config.countMax) return false;
    const files = this.#oldFiles();
    if (files.length <= this.config.countMin) return false;
    const oldest = files.reduce((a, b) => (b < a ? b : a));
    this.#warn(`out of disk space, delete: ${this.name}/${oldest}`);
    try {
      unlinkAt(this.#dirFd, oldest);
      return true;
    } catch (error) {
      this.#warn(
        `unable to unlink oldest logfile: ${this.name}: ${errorText(errnoOfError(error))}`,
      );
      return false;
    }
  }

  /** Whether a line of `length` bytes must start a new file. */
  mustRotateBefore(length: number): boolean {
    if (this.rotatePending) return true;
    const max = this.config.sizeMax;
    return max > 0 && this.size > 0 && this.size + length > max;
  }

  /** After a whole line: note a rotation when within `-l` bytes of the size limit. */
  lineEnded(): void {
    this.#whole = this.#used;
    const max = this.config.sizeMax;
    if (max >= this.#lineMax && max > 0 && this.size >= max - this.#lineMax) {
      this.rotatePending = true;
    }
  }

  /** Resolves when no processor runs for this log. */
  idle(): Promise<void> {
    return this.#processor.idle();
  }

  /**
   * Rotate now (the caller has waited for {@link LogDir.idle}): a non-empty
   * `current` is synced, made 0744 and renamed; a new one is opened.
   */
  rotate(): void {
    this.rotatePending = false;
    if (!this.isOpen) {
      this.config.timeMax = 0;
      return;
    }
    const name = this.#freshName(this.config.processor ? "u" : "s");
    const time = Date.now();
    if (this.config.timeMax > 0 && this.rotateAt < time) {
      this.rotateAt = time + this.config.timeMax * 1000;
    }
    if (this.size === 0) return;
    this.flush();
    if (this.#stalled) {
      // Not before what belongs in this file is written.
      this.rotatePending = true;
      return;
    }
    this.#persist("unable to fsync current logfile", () => syncFd(this.#currentFd));
    this.#persist("unable to set mode of current", () => chmodFd(this.#currentFd, 0o744));
    closeFd(this.#currentFd);
    this.#info(`rename: ${this.name}/current ${name} ${this.size}`);
    this.#persist("unable to rename current", () => renameAt(this.#dirFd, "current", name));
    this.#currentFd = this.#persist("unable to create new current", () => this.#openCurrent());
    this.size = 0;
    this.#persist("unable to set mode of current", () => chmodFd(this.#currentFd, 0o644));
    this.#removeOldest(name);
    if (this.config.processor) {
      this.#processor.start(name, { dirFd: this.#dirFd, command: this.config.processor });
    }
  }

  /** Flush, sync, mark `current` complete (mode 0744), release the lock. */
  close(): void {
    if (this.#dirFd === -1) return;
    this.#closeCurrent();
    closeFd(this.#lockFd);
    this.#lockFd = -1;
    closeFd(this.#dirFd);
    this.#dirFd = -1;
    this.#used = 0;
    this.#whole = 0;
    if (this.#shared) this.#store = this.#shared;
    this.#processor.forget();
  }

  #closeCurrent(): void {
    if (this.#currentFd === -1) return;
    this.#info(`close: ${this.name}`);
    this.flush();
    if (this.#stalled) {
      this.#warn(`unable to write to current: ${this.name}: ${this.#used} bytes lost`);
      this.#stalled = false;
    }
    this.#persist("unable to fsync current logfile", () => syncFd(this.#currentFd));
    this.#persist("unable to set mode of current", () => chmodFd(this.#currentFd, 0o744));
    closeFd(this.#currentFd);
    this.#currentFd = -1;
  }
}
