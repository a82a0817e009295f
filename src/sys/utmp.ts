/**
 * glibc's login records (`struct utmp`, utmp(5)) and the two changes runit's
 * utmpset makes to them: mark a line's utmp record logged out, and append a
 * logout record to wtmp. As runit does, this is plain file I/O on the files
 * (read, rewrite in place, append) under an exclusive flock(2), not glibc's
 * getutent family (which locks with fcntl and searches by ut_id).
 *
 * @module
 */

import {
  AT_FDCWD,
  closeFd,
  LOCK,
  O,
  openAt,
  readFd,
  statAt,
  tryLock,
  waitLock,
  writeFd,
} from "./fs.ts";
import { errno, libc } from "./libc.ts";
import { Errno, SysError } from "./errno.ts";

/** glibc's `_PATH_UTMP` and `_PATH_WTMP`, the files runit's utmpset changes. */
export const UTMP_PATHS = { utmp: "/var/run/utmp", wtmp: "/var/log/wtmp" } as const;

/** `ut_type` values (glibc's bits/utmp.h). */
export const UT_TYPE = {
  EMPTY: 0,
  RUN_LVL: 1,
  BOOT_TIME: 2,
  NEW_TIME: 3,
  OLD_TIME: 4,
  INIT_PROCESS: 5,
  LOGIN_PROCESS: 6,
  USER_PROCESS: 7,
  DEAD_PROCESS: 8,
  ACCOUNTING: 9,
} as const;

/** Where each field of `struct utmp` lies: byte offsets, and sizes where they vary. */
export interface UtmpLayout {
  /** sizeof(struct utmp). */
  size: number;
  /** `short ut_type`. */
  type: number;
  /** `pid_t ut_pid`. */
  pid: number;
  /** `char ut_line[32]`. */
  line: number;
  /** `char ut_id[4]`. */
  id: number;
  /** `char ut_user[32]`. */
  user: number;
  /** `char ut_host[256]`. */
  host: number;
  /** `struct exit_status ut_exit` (two shorts). */
  exit: number;
  /** `ut_session`. */
  session: number;
  /** `ut_tv.tv_sec`. */
  tvSec: number;
  /** `ut_tv.tv_usec`. */
  tvUsec: number;
  /** Bytes of `ut_session`, `tv_sec` and `tv_usec` each: 4 or 8. */
  wordSize: 4 | 8;
  /** `int32_t ut_addr_v6[4]`. */
  addr: number;
  /** `char __glibc_reserved[20]`. */
  reserved: number;
}

/** Sizes of the character fields (UT_LINESIZE, UT_NAMESIZE, UT_HOSTSIZE). */
export const UT_SIZE = { line: 32, id: 4, user: 32, host: 256 } as const;

const COMMON = { type: 0, pid: 4, line: 8, id: 40, user: 44, host: 76, exit: 332, session: 336 };

/**
 * The layout of `struct utmp` for an architecture. x86_64 keeps 32-bit
 * `ut_session` and `ut_tv` (glibc's `__WORDSIZE_TIME64_COMPAT32`): 384
 * bytes. aarch64 does not: `long ut_session` and `struct timeval ut_tv`
 * make it 400.
 *
 * @example
 * ```ts
 * import { utmpLayout } from "./utmp.ts";
 * utmpLayout("x86_64").size; // 384
 * utmpLayout("aarch64").size; // 400
 * ```
 */
export function utmpLayout(arch: string = Deno.build.arch): UtmpLayout {
  if (arch === "aarch64") {
    return { ...COMMON, size: 400, tvSec: 344, tvUsec: 352, wordSize: 8, addr: 360, reserved: 376 };
  }
  return { ...COMMON, size: 384, tvSec: 340, tvUsec: 344, wordSize: 4, addr: 348, reserved: 364 };
}

/** Store `seconds` in a record's `ut_tv.tv_sec` (truncated to 32 bits where the field has 32). */
function setSeconds(record: Uint8Array, layout: UtmpLayout, seconds: number): void {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  if (layout.wordSize === 8) view.setBigInt64(layout.tvSec, BigInt(seconds), true);
  else view.setUint32(layout.tvSec, seconds >>> 0, true);
}

/** Options of {@link logoutUtmp} and {@link appendWtmpLogout}. */
export interface LogoutOptions {
  /** The file (default {@link UTMP_PATHS}' utmp or wtmp). */
  path?: string;
  /** The time to record, Unix seconds (default now). */
  now?: number;
  /** The record layout (default this machine's). */
  layout?: UtmpLayout;
}

/**
 * Mark `line`'s record in utmp logged out, as runit's utmpset does: the
 * first record with a user whose `ut_line` is `line` (compared with its
 * terminating NUL unless it fills the field) gets DEAD_PROCESS, the time
 * now (seconds only), and user and host cleared; the rest is kept. Resolves
 * true when a record was rewritten, false when none matched or the rewrite
 * failed. Throws {@link SysError} with operation "open" or "lock".
 *
 * @example
 * ```ts ignore
 * import { logoutUtmp } from "./utmp.ts";
 * await logoutUtmp(new TextEncoder().encode("tty5")); // true when tty5 was logged in
 * ```
 */
export async function logoutUtmp(line: Uint8Array, options: LogoutOptions = {}): Promise<boolean> {
  const layout = options.layout ?? utmpLayout();
  const fd = openAt(AT_FDCWD, options.path ?? UTMP_PATHS.utmp, {
    flags: O.RDWR | O.CLOEXEC,
    what: "open",
  });
  try {
    if (!tryLock(fd, LOCK.EX)) await waitLock(fd, LOCK.EX);
    const wanted = new Uint8Array(Math.min(line.length + 1, UT_SIZE.line));
    wanted.set(line.subarray(0, wanted.length));
    const record = new Uint8Array(layout.size);
    for (let offset = 0;; offset += layout.size) {
      if (readRecord(fd, record) !== layout.size) return false;
      if (record[layout.user] === 0) continue;
      const name = record.subarray(layout.line, layout.line + wanted.length);
      if (!name.every((byte, at) => byte === wanted[at])) continue;
      record.fill(0, layout.user, layout.user + UT_SIZE.user);
      record.fill(0, layout.host, layout.host + UT_SIZE.host);
      setSeconds(record, layout, options.now ?? Math.floor(Date.now() / 1000));
      new DataView(record.buffer).setInt16(layout.type, UT_TYPE.DEAD_PROCESS, true);
      // Back to where the record was read (runit: lseek back, then write).
      return Number(libc().pwrite(fd, record, BigInt(record.length), BigInt(offset))) ===
        record.length;
    }
  } finally {
    closeFd(fd);
  }
}

/**
 * Append a logout record for `line` to wtmp, as runit's utmpset -w does: a
 * record of zeros but for DEAD_PROCESS, the line and the time (seconds).
 * The file is created (mode 0600) when missing; a failed write is undone
 * by truncating to the old size. Throws {@link SysError} with operation
 * "open" or "lock", or "write" (with the errno that runit reports: the
 * truncation's when that fails too).
 *
 * @example
 * ```ts ignore
 * import { appendWtmpLogout } from "./utmp.ts";
 * await appendWtmpLogout(new TextEncoder().encode("tty5"));
 * ```
 */
export async function appendWtmpLogout(
  line: Uint8Array,
  options: LogoutOptions = {},
): Promise<void> {
  const layout = options.layout ?? utmpLayout();
  const fd = openAt(AT_FDCWD, options.path ?? UTMP_PATHS.wtmp, {
    flags: O.WRONLY | O.APPEND | O.CREAT | O.NONBLOCK | O.CLOEXEC,
    mode: 0o600,
    what: "open",
  });
  try {
    if (!tryLock(fd, LOCK.EX)) await waitLock(fd, LOCK.EX);
    const size = statAt(fd, "")?.size;
    if (size === undefined) throw new SysError("write", Errno.ENOENT);
    const record = new Uint8Array(layout.size);
    // runit keeps 30 bytes of a line too long for the field; utmpset never gets that far.
    record.set(line.length > UT_SIZE.line ? line.subarray(0, UT_SIZE.line - 2) : line, layout.line);
    setSeconds(record, layout, options.now ?? Math.floor(Date.now() / 1000));
    new DataView(record.buffer).setInt16(layout.type, UT_TYPE.DEAD_PROCESS, true);
    // A short write sets no errno: call it a full disk.
    let code: number = Errno.ENOSPC;
    try {
      const written = writeFd(fd, record);
      if (written === record.length) return;
      if (written === -1) code = Errno.EAGAIN;
    } catch (error) {
      if (!(error instanceof SysError)) throw error;
      code = error.errno;
    }
    if (libc().ftruncate(fd, BigInt(size)) === -1) code = errno();
    throw new SysError("write", code);
  } finally {
    closeFd(fd);
  }
}

/** One read of a whole record: its byte count (0 at the end, -1 on error). */
function readRecord(fd: number, record: Uint8Array<ArrayBuffer>): number {
  try {
    return readFd(fd, record);
  } catch (error) {
    if (error instanceof SysError) return -1;
    throw error;
  }
}
