/**
 * Descriptor-level file operations, relative to a directory descriptor so
 * that a supervised directory keeps working when it is renamed (as runit's
 * runsv does by living inside it with chdir).
 *
 * @module
 */

import { cstring, decodeName, errno, libc } from "./libc.ts";

export { decodeName, encodeName } from "./libc.ts";
import { Errno, SysError } from "./errno.ts";

/** `dirfd` value meaning "relative to the current directory". */
export const AT_FDCWD = -100;

/** open(2) flags (Linux, x86_64 and aarch64 agree on these). */
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  // aarch64 (generic Linux) numbers these two differently from x86_64.
  DIRECTORY: Deno.build.arch === "aarch64" ? 0o40000 : 0o200000,
  NOFOLLOW: Deno.build.arch === "aarch64" ? 0o100000 : 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;

/** File type bits of `st_mode`. */
export const S = {
  IFMT: 0o170000,
  IFDIR: 0o040000,
  IFREG: 0o100000,
  IFIFO: 0o010000,
  IFLNK: 0o120000,
  IXUSR: 0o100,
} as const;

/** The parts of a stat result that this project uses. */
export interface FileStat {
  /** Type and permission bits. */
  mode: number;
  /** Device, as one number (major * 2^32 + minor), for identity only. */
  dev: bigint;
  /** Inode number. */
  ino: bigint;
  /** Size in bytes. */
  size: number;
  /** Modification time, seconds. */
  mtimeSec: number;
  /** Modification time, nanoseconds within the second. */
  mtimeNsec: number;
  /** Status change time, seconds and nanoseconds. */
  ctimeSec: number;
  /** Status change time, nanoseconds within the second. */
  ctimeNsec: number;
  /** Hard links. */
  nlink: number;
}

/**
 * open(2) relative to `dirfd`; throws {@link SysError} naming `path`.
 *
 * @example
 * ```ts
 * import { AT_FDCWD, O, openAt, closeFd } from "./fs.ts";
 * const fd = openAt(AT_FDCWD, "/dev/null", { flags: O.RDONLY | O.CLOEXEC });
 * closeFd(fd);
 * ```
 */
export function openAt(
  dirfd: number,
  path: string,
  options: { flags: number; mode?: number; what?: string },
): number {
  const fd = libc().openat(dirfd, cstring(path), options.flags, options.mode ?? 0o644);
  if (fd === -1) throw new SysError(options.what ?? `open ${path}`, errno());
  return fd;
}

/**
 * close(2). Errors are ignored (there is mostly nothing useful to do about
 * them), and a negative `fd` is skipped, unless `options.strict`: then a
 * failure (EBADF for a descriptor that is not open) throws {@link SysError}
 * "close N", as chpst's `-0`/`-1`/`-2` must report it.
 *
 * @example
 * ```ts
 * import { closeFd, makePipe } from "./fs.ts";
 * const [readEnd, writeEnd] = makePipe();
 * closeFd(readEnd);
 * closeFd(writeEnd, { strict: true }); // throws SysError had it not been open
 * closeFd(-1); // nothing
 * ```
 */
export function closeFd(fd: number, options: { strict?: boolean } = {}): void {
  if (!options.strict) {
    if (fd >= 0) libc().close(fd);
  } else if (libc().close(fd) === -1) {
    throw new SysError(`close ${fd}`, errno());
  }
}

/**
 * One read(2). Returns the byte count, 0 at end of file, or -1 when a
 * non-blocking descriptor has nothing (EAGAIN); throws on other errors.
 *
 * @example
 * ```ts ignore
 * import { readFd } from "./fs.ts";
 * const n = readFd(0, new Uint8Array(64));
 * ```
 */
export function readFd(fd: number, buffer: Uint8Array<ArrayBuffer>): number {
  for (;;) {
    const n = Number(libc().read(fd, buffer, BigInt(buffer.length)));
    if (n >= 0) return n;
    const code = errno();
    if (code === Errno.EINTR) continue;
    if (code === Errno.EAGAIN) return -1;
    throw new SysError("read", code);
  }
}

/**
 * One write(2): the count written, or -1 on EAGAIN; throws on other errors.
 *
 * @example
 * ```ts
 * import { writeFd } from "./fs.ts";
 * writeFd(1, new TextEncoder().encode("hi\n"));
 * ```
 */
export function writeFd(fd: number, bytes: Uint8Array<ArrayBuffer>): number {
  for (;;) {
    const n = Number(libc().write(fd, bytes, BigInt(bytes.length)));
    if (n >= 0) return n;
    const code = errno();
    if (code === Errno.EINTR) continue;
    if (code === Errno.EAGAIN) return -1;
    throw new SysError("write", code);
  }
}

/** poll(2) event bits. */
export const POLL = { IN: 0x1, OUT: 0x4 } as const;

/**
 * poll(2) one descriptor for `events`, waiting up to `ms` (0: just look):
 * true when it is ready, or when an operation would fail at once (hung up,
 * no reader, a bad descriptor), so that the caller finds out. For short,
 * bounded waits and for descriptors shared with other processes, whose
 * O_NONBLOCK flag is not ours to set; anything longer waits in the reactor.
 *
 * @example
 * ```ts
 * import { makePipe, POLL, pollReady } from "./fs.ts";
 * const [readEnd] = makePipe();
 * pollReady(readEnd, { events: POLL.IN, ms: 0 }); // false: nothing written
 * ```
 */
export function pollReady(fd: number, options: { events: number; ms: number }): boolean {
  const entry = pollEntry(fd, options.events);
  const deadline = Date.now() + options.ms;
  for (;;) {
    const n = libc().poll(entry, 1n, Math.max(0, deadline - Date.now()));
    if (n >= 0) return n > 0;
    const code = errno();
    if (code !== Errno.EINTR) throw new SysError("poll", code);
  }
}

/**
 * {@link pollReady} for longer waits of a short-lived client that runs no
 * reactor (sv's waits): poll(2) on a runtime thread, so the event loop runs
 * on meanwhile; resolves whether `fd` became ready within `ms`.
 *
 * @example
 * ```ts
 * import { makePipe, POLL, pollReadyLater } from "./fs.ts";
 * const [readEnd] = makePipe();
 * await pollReadyLater(readEnd, { events: POLL.IN, ms: 10 }); // false: nothing written
 * ```
 */
export async function pollReadyLater(
  fd: number,
  options: { events: number; ms: number },
): Promise<boolean> {
  return await libc().poll_blocking(pollEntry(fd, options.events), 1n, options.ms) > 0;
}

/** One `struct pollfd`. */
function pollEntry(fd: number, events: number): Uint8Array<ArrayBuffer> {
  const entry = new Uint8Array(8);
  const view = new DataView(entry.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, events, true);
  return entry;
}

/**
 * Whether a write to `fd` would not block now: for a pipe, at least PIPE_BUF
 * (4096) bytes fit. Also true when a write would fail at once (no reader, a
 * bad descriptor), so that the caller finds out.
 *
 * @example
 * ```ts
 * import { makePipe, writableNow } from "./fs.ts";
 * const [, writeEnd] = makePipe();
 * writableNow(writeEnd); // true: the pipe is empty
 * ```
 */
export function writableNow(fd: number): boolean {
  try {
    return pollReady(fd, { events: POLL.OUT, ms: 0 });
  } catch {
    return true;
  }
}

/**
 * A pipe, both ends close-on-exec; `[readEnd, writeEnd]`.
 *
 * @example
 * ```ts
 * import { makePipe } from "./fs.ts";
 * const [r, w] = makePipe();
 * ```
 */
export function makePipe(options: { nonblocking?: boolean } = {}): [number, number] {
  const fds = new Int32Array(2);
  const flags = O.CLOEXEC | (options.nonblocking ? O.NONBLOCK : 0);
  if (libc().pipe2(new Uint8Array(fds.buffer), flags) === -1) {
    throw new SysError("create pipe", errno());
  }
  return [fds[0], fds[1]];
}

/**
 * mkfifo(3) relative to `dirfd`; an existing file is not an error (as
 * runit's fifo_make, whose caller then checks the type).
 *
 * @example
 * ```ts ignore
 * import { AT_FDCWD, makeFifoAt } from "./fs.ts";
 * makeFifoAt(AT_FDCWD, "/tmp/control", 0o600);
 * ```
 */
export function makeFifoAt(dirfd: number, path: string, mode: number): void {
  if (libc().mkfifoat(dirfd, cstring(path), mode) === -1) {
    const code = errno();
    if (code !== Errno.EEXIST) throw new SysError(`create ${path}`, code);
  }
}

/**
 * mkdir(2) relative to `dirfd`. Returns false when the name exists.
 *
 * @example
 * ```ts ignore
 * import { AT_FDCWD, makeDirAt } from "./fs.ts";
 * makeDirAt(AT_FDCWD, "/tmp/supervise", 0o700);
 * ```
 */
export function makeDirAt(dirfd: number, path: string, mode: number): boolean {
  if (libc().mkdirat(dirfd, cstring(path), mode) === 0) return true;
  const code = errno();
  if (code === Errno.EEXIST) return false;
  throw new SysError(`create directory ${path}`, code);
}

/**
 * rename(2), both names relative to `dirfd`.
 *
 * @example
 * ```ts ignore
 * import { AT_FDCWD, renameAt } from "./fs.ts";
 * renameAt(AT_FDCWD, "/tmp/status.new", "/tmp/status");
 * ```
 */
export function renameAt(dirfd: number, from: string, to: string): void {
  if (libc().renameat(dirfd, cstring(from), dirfd, cstring(to)) === -1) {
    throw new SysError(`rename ${from} to ${to}`, errno());
  }
}

/**
 * readlink(2) relative to `dirfd`; undefined when the name is not a symlink
 * or does not exist.
 *
 * @example
 * ```ts
 * import { AT_FDCWD, readLinkAt } from "./fs.ts";
 * readLinkAt(AT_FDCWD, "/proc/self/exe");
 * ```
 */
export function readLinkAt(dirfd: number, path: string): string | undefined {
  const buffer = new Uint8Array(4096);
  const n = Number(libc().readlinkat(dirfd, cstring(path), buffer, BigInt(buffer.length)));
  if (n >= 0) return new TextDecoder().decode(buffer.subarray(0, n));
  const code = errno();
  if (code === Errno.ENOENT || code === Errno.EINVAL) return undefined;
  throw new SysError(`readlink ${path}`, code);
}

const STATX_BASIC = 0x7ff;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;

/**
 * stat(2) (through statx, whose layout is the same on every architecture)
 * relative to `dirfd`; undefined when the name does not exist. An empty
 * `path` stats `dirfd` itself.
 *
 * @example
 * ```ts
 * import { AT_FDCWD, statAt } from "./fs.ts";
 * statAt(AT_FDCWD, "/tmp")?.mode;
 * ```
 */
export function statAt(
  dirfd: number,
  path: string,
  options: { followLinks?: boolean } = {},
): FileStat | undefined {
  const buffer = new Uint8Array(256);
  let flags = options.followLinks === false ? AT_SYMLINK_NOFOLLOW : 0;
  if (path === "") flags |= AT_EMPTY_PATH;
  if (libc().statx(dirfd, cstring(path), flags, STATX_BASIC, buffer) === -1) {
    const code = errno();
    if (code === Errno.ENOENT) return undefined;
    throw new SysError(`stat ${path}`, code);
  }
  const view = new DataView(buffer.buffer);
  return {
    mode: view.getUint16(28, true),
    ino: view.getBigUint64(32, true),
    size: Number(view.getBigUint64(40, true)),
    mtimeSec: Number(view.getBigInt64(112, true)),
    mtimeNsec: view.getUint32(120, true),
    ctimeSec: Number(view.getBigInt64(96, true)),
    ctimeNsec: view.getUint32(104, true),
    nlink: view.getUint32(16, true),
    dev: (BigInt(view.getUint32(136, true)) << 32n) | BigInt(view.getUint32(140, true)),
  };
}

/** flock(2) operations. */
export const LOCK = { SH: 1, EX: 2, NB: 4, UN: 8 } as const;

/**
 * flock(2) without blocking: true when taken, false when another holds it.
 *
 * @example
 * ```ts ignore
 * import { AT_FDCWD, O, openAt, tryLock, LOCK } from "./fs.ts";
 * const fd = openAt(AT_FDCWD, "/tmp/lock", { flags: O.WRONLY | O.CREAT | O.CLOEXEC });
 * tryLock(fd, LOCK.EX);
 * ```
 */
export function tryLock(fd: number, operation: number): boolean {
  if (libc().flock(fd, operation | LOCK.NB) === 0) return true;
  const code = errno();
  if (code === Errno.EAGAIN) return false;
  throw new SysError("lock", code);
}

/**
 * flock(2), waiting on a runtime thread until the lock is free.
 *
 * @example
 * ```ts ignore
 * import { AT_FDCWD, O, openAt, waitLock, LOCK } from "./fs.ts";
 * const fd = openAt(AT_FDCWD, "/tmp/lock", { flags: O.WRONLY | O.CREAT | O.CLOEXEC });
 * await waitLock(fd, LOCK.EX);
 * ```
 */
export async function waitLock(fd: number, operation: number): Promise<void> {
  for (;;) {
    if (await libc().flock_blocking(fd, operation) === 0) return;
    // errno of the worker thread is not ours to read; EINTR is the only
    // failure a valid descriptor can produce here, so try again.
    if (libc().flock(fd, operation | LOCK.NB) === 0) return;
  }
}

/**
 * Replace `name` (relative to `dirfd`) with `bytes` atomically: write
 * `name.new`, then rename, as runit does for every supervise/ file. Throws
 * {@link SysError} naming the file as runsv does (`open supervise/stat.new`,
 * `write supervise/status.new`, `rename status.new to supervise/status`).
 *
 * @example
 * ```ts ignore
 * import { AT_FDCWD, replaceFileAt } from "./fs.ts";
 * replaceFileAt(AT_FDCWD, "/tmp/stat", new TextEncoder().encode("run\n"));
 * ```
 */
export function replaceFileAt(dirfd: number, name: string, bytes: Uint8Array<ArrayBuffer>): void {
  const temporary = `${name}.new`;
  const fd = openAt(dirfd, temporary, {
    flags: O.WRONLY | O.CREAT | O.TRUNC | O.NONBLOCK | O.CLOEXEC,
    mode: 0o644,
  });
  try {
    if (bytes.length > 0 && writeFd(fd, bytes) !== bytes.length) {
      throw new SysError(`write ${temporary}`, Errno.ENOSPC);
    }
  } catch (error) {
    closeFd(fd);
    libc().unlinkat(dirfd, cstring(temporary), 0);
    if (error instanceof SysError && error.operation === "write") {
      throw new SysError(`write ${temporary}`, error.errno);
    }
    throw error;
  }
  closeFd(fd);
  if (libc().renameat(dirfd, cstring(temporary), dirfd, cstring(name)) === -1) {
    // runsv's wording: "unable to rename status.new to supervise/status".
    throw new SysError(
      `rename ${temporary.slice(temporary.lastIndexOf("/") + 1)} to ${name}`,
      errno(),
    );
  }
}

/**
 * Read a whole small regular file relative to `dirfd`.
 *
 * @example
 * ```ts
 * import { AT_FDCWD, readFileAt } from "./fs.ts";
 * readFileAt(AT_FDCWD, "/etc/hostname", 4096);
 * ```
 */
export function readFileAt(dirfd: number, path: string, limit: number): Uint8Array {
  const fd = openAt(dirfd, path, { flags: O.RDONLY | O.NONBLOCK | O.CLOEXEC });
  try {
    const buffer = new Uint8Array(limit);
    let total = 0;
    while (total < limit) {
      const n = readFd(fd, buffer.subarray(total));
      if (n <= 0) break;
      total += n;
    }
    return buffer.subarray(0, total);
  } finally {
    closeFd(fd);
  }
}

/**
 * fsync(2); throws {@link SysError} (callers that must not lose data retry).
 *
 * @example
 * ```ts
 * import { AT_FDCWD, O, openAt, syncFd } from "./fs.ts";
 * syncFd(openAt(AT_FDCWD, "/tmp", { flags: O.RDONLY | O.CLOEXEC }));
 * ```
 */
export function syncFd(fd: number): void {
  if (libc().fsync(fd) === -1) throw new SysError("fsync", errno());
}

/**
 * fchmod(2).
 *
 * @example
 * ```ts ignore
 * import { AT_FDCWD, O, openAt, chmodFd } from "./fs.ts";
 * chmodFd(openAt(AT_FDCWD, "/tmp/x", { flags: O.WRONLY | O.CREAT | O.CLOEXEC }), 0o644);
 * ```
 */
export function chmodFd(fd: number, mode: number): void {
  if (libc().fchmod(fd, mode) === -1) throw new SysError("set mode", errno());
}

/**
 * fchown(2): give an open file to `uid` and `gid`, -1 leaving one as it is
 * (a hosted logger's files belong to the logger's user, not to the
 * supervisor that writes them).
 *
 * @example
 * ```ts ignore
 * import { AT_FDCWD, O, openAt, chownFd } from "./fs.ts";
 * chownFd(openAt(AT_FDCWD, "/tmp/x", { flags: O.WRONLY | O.CREAT | O.CLOEXEC }), 65534, 65534);
 * ```
 */
export function chownFd(fd: number, uid: number, gid: number): void {
  // -1 (as an unsigned 32-bit value) leaves that one unchanged.
  if (libc().fchown(fd, uid >>> 0, gid >>> 0) === -1) throw new SysError("set owner", errno());
}

/**
 * chmod(2) of a name relative to `dirfd`.
 *
 * @example
 * ```ts ignore
 * import { AT_FDCWD, chmodAt } from "./fs.ts";
 * chmodAt(AT_FDCWD, "/tmp/x", 0o744);
 * ```
 */
export function chmodAt(dirfd: number, path: string, mode: number): void {
  if (libc().fchmodat(dirfd, cstring(path), mode, 0) === -1) {
    throw new SysError(`set mode of ${path}`, errno());
  }
}

/**
 * unlink(2) of a name relative to `dirfd`; throws {@link SysError}.
 *
 * @example
 * ```ts ignore
 * import { AT_FDCWD, unlinkAt } from "./fs.ts";
 * unlinkAt(AT_FDCWD, "/tmp/stale");
 * ```
 */
export function unlinkAt(dirfd: number, path: string): void {
  if (libc().unlinkat(dirfd, cstring(path), 0) === -1) {
    throw new SysError(`unlink ${path}`, errno());
  }
}

const F_GETFL = 3;
const F_SETFL = 4;

/**
 * Turn O_NONBLOCK on or off for a descriptor (runit's ndelay_on/off).
 *
 * @example
 * ```ts ignore
 * import { setNonBlocking } from "./fs.ts";
 * setNonBlocking(0, true);
 * ```
 */
export function setNonBlocking(fd: number, on: boolean): void {
  const flags = libc().fcntl(fd, F_GETFL, 0);
  if (flags === -1) throw new SysError("get descriptor flags", errno());
  const wanted = on ? flags | O.NONBLOCK : flags & ~O.NONBLOCK;
  if (wanted !== flags && libc().fcntl(fd, F_SETFL, wanted) === -1) {
    throw new SysError("set descriptor flags", errno());
  }
}

/**
 * chdir(2) to a path; throws {@link SysError} ("change directory").
 *
 * @example
 * ```ts ignore
 * import { changeDir } from "./fs.ts";
 * changeDir("/tmp");
 * ```
 */
export function changeDir(path: string): void {
  if (libc().chdir(cstring(path)) === -1) throw new SysError("change directory", errno());
}

/**
 * chroot(2); throws {@link SysError} ("change root directory").
 *
 * @example
 * ```ts ignore
 * import { changeRoot } from "./fs.ts";
 * changeRoot(".");
 * ```
 */
export function changeRoot(path: string): void {
  if (libc().chroot(cstring(path)) === -1) throw new SysError("change root directory", errno());
}

/** A directory entry: its name and its type as the directory says (DT_*; 0 unknown). */
export interface DirEntry {
  /** The name; bytes that are not UTF-8 are kept as U+DC80-U+DCFF (see {@link cstring}). */
  name: string;
  /** d_type: {@link DT}.DIR, .LNK, .REG …, or DT.UNKNOWN. */
  type: number;
}

/** d_type values. */
export const DT = { UNKNOWN: 0, FIFO: 1, DIR: 4, REG: 8, LNK: 10 } as const;

/**
 * Every entry of a directory but `.` and `..`, read with getdents64 on a
 * descriptor of its own (so a directory known only by a descriptor, `path`
 * "." relative to it, is listed without /proc), names as bytes (so a name
 * that is not UTF-8 is listed, and can be opened again by the name given). Throws {@link SysError} ("open directory DIR", "read
 * directory DIR").
 *
 * @example
 * ```ts
 * import { AT_FDCWD, listDir } from "./fs.ts";
 * listDir(AT_FDCWD, "/").some((entry) => entry.name === "tmp"); // true
 * ```
 */
export function listDir(dirfd: number, path: string): DirEntry[] {
  const fd = openAt(dirfd, path, {
    flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC,
    what: `open directory ${path}`,
  });
  const entries: DirEntry[] = [];
  const buffer = new Uint8Array(32768);
  const view = new DataView(buffer.buffer);
  try {
    for (;;) {
      const n = Number(libc().getdents64(fd, buffer, BigInt(buffer.length)));
      if (n === 0) return entries;
      if (n < 0) throw new SysError(`read directory ${path}`, errno());
      for (let at = 0; at < n;) {
        const length = view.getUint16(at + 16, true);
        const type = buffer[at + 18];
        let end = at + 19;
        while (buffer[end] !== 0) end++;
        const bytes = buffer.subarray(at + 19, end);
        at += length;
        if (bytes.length <= 2 && bytes[0] === 0x2e && (bytes.length === 1 || bytes[1] === 0x2e)) {
          continue;
        }
        entries.push({ name: decodeName(bytes), type });
      }
    }
  } finally {
    closeFd(fd);
  }
}
