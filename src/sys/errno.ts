/**
 * Linux errno values and the texts runit prints for them. runit uses djb's
 * `error_str`, not `strerror`, so ENOENT reads "file does not exist" and
 * EAGAIN "temporary failure"; users grep for these, so we print the same.
 *
 * The numbers are kept here rather than read from `node:os`: its
 * `constants.errno` lists only 79 names, and importing it costs every
 * process about 5 ms and 4.5 MB. tests/errno_test.ts checks this table
 * against the kernel's headers and against `node:os`.
 *
 * @module
 */

/**
 * Every Linux errno name and its number: the kernel's asm-generic table,
 * which x86_64 and aarch64 both use, plus glibc's alias ENOTSUP. Aliases
 * share a number (EWOULDBLOCK is EAGAIN, EDEADLOCK is EDEADLK).
 *
 * @example
 * ```ts
 * import { Errno } from "./errno.ts";
 * Errno.ENOENT; // 2
 * Errno.EWOULDBLOCK === Errno.EAGAIN; // true
 * ```
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  EWOULDBLOCK: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  ENOTBLK: 15,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EDEADLK: 35,
  EDEADLOCK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENOMSG: 42,
  EIDRM: 43,
  ECHRNG: 44,
  EL2NSYNC: 45,
  EL3HLT: 46,
  EL3RST: 47,
  ELNRNG: 48,
  EUNATCH: 49,
  ENOCSI: 50,
  EL2HLT: 51,
  EBADE: 52,
  EBADR: 53,
  EXFULL: 54,
  ENOANO: 55,
  EBADRQC: 56,
  EBADSLT: 57,
  EBFONT: 59,
  ENOSTR: 60,
  ENODATA: 61,
  ETIME: 62,
  ENOSR: 63,
  ENONET: 64,
  ENOPKG: 65,
  EREMOTE: 66,
  ENOLINK: 67,
  EADV: 68,
  ESRMNT: 69,
  ECOMM: 70,
  EPROTO: 71,
  EMULTIHOP: 72,
  EDOTDOT: 73,
  EBADMSG: 74,
  EOVERFLOW: 75,
  ENOTUNIQ: 76,
  EBADFD: 77,
  EREMCHG: 78,
  ELIBACC: 79,
  ELIBBAD: 80,
  ELIBSCN: 81,
  ELIBMAX: 82,
  ELIBEXEC: 83,
  EILSEQ: 84,
  ERESTART: 85,
  ESTRPIPE: 86,
  EUSERS: 87,
  ENOTSOCK: 88,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95,
  ENOTSUP: 95,
  EPFNOSUPPORT: 96,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ENETRESET: 102,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETOOMANYREFS: 109,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTDOWN: 112,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
  ESTALE: 116,
  EUCLEAN: 117,
  ENOTNAM: 118,
  ENAVAIL: 119,
  EISNAM: 120,
  EREMOTEIO: 121,
  EDQUOT: 122,
  ENOMEDIUM: 123,
  EMEDIUMTYPE: 124,
  ECANCELED: 125,
  ENOKEY: 126,
  EKEYEXPIRED: 127,
  EKEYREVOKED: 128,
  EKEYREJECTED: 129,
  EOWNERDEAD: 130,
  ENOTRECOVERABLE: 131,
  ERFKILL: 132,
  EHWPOISON: 133,
} as const;

/** The name of a Linux errno value, as in {@link Errno}. */
export type ErrnoName = keyof typeof Errno;

/**
 * djb's error_str, in its order (the first name with a given number wins,
 * so EAGAIN reads "temporary failure", never "input/output would block").
 * Its names that Linux lacks (EPROCLIM, EBADRPC, EFTYPE, …) are left out,
 * as its `#ifdef`s leave them out of a Linux build.
 */
const TEXTS: ReadonlyArray<readonly [ErrnoName, string]> = [
  ["EINTR", "interrupted system call"],
  ["ENOMEM", "out of memory"],
  ["ENOENT", "file does not exist"],
  ["ETXTBSY", "text busy"],
  ["EIO", "input/output error"],
  ["EEXIST", "file already exists"],
  ["ETIMEDOUT", "timed out"],
  ["EINPROGRESS", "operation in progress"],
  ["EAGAIN", "temporary failure"],
  ["EWOULDBLOCK", "input/output would block"],
  ["EPIPE", "broken pipe"],
  ["EPERM", "permission denied"],
  ["EACCES", "access denied"],
  ["ENXIO", "device not configured"],
  ["EPROTO", "protocol error"],
  ["EISDIR", "is a directory"],
  ["ECONNREFUSED", "connection refused"],
  ["ENOTDIR", "not a directory"],
  ["ESRCH", "no such process"],
  ["E2BIG", "argument list too long"],
  ["ENOEXEC", "exec format error"],
  ["EBADF", "file descriptor not open"],
  ["ECHILD", "no child processes"],
  ["EDEADLK", "operation would cause deadlock"],
  ["EFAULT", "bad address"],
  ["ENOTBLK", "not a block device"],
  ["EBUSY", "device busy"],
  ["EXDEV", "cross-device link"],
  ["ENODEV", "device does not support operation"],
  ["EINVAL", "invalid argument"],
  ["ENFILE", "system cannot open more files"],
  ["EMFILE", "process cannot open more files"],
  ["ENOTTY", "not a tty"],
  ["EFBIG", "file too big"],
  ["ENOSPC", "out of disk space"],
  ["ESPIPE", "unseekable descriptor"],
  ["EROFS", "read-only file system"],
  ["EMLINK", "too many links"],
  ["EDOM", "input out of range"],
  ["ERANGE", "output out of range"],
  ["EALREADY", "operation already in progress"],
  ["ENOTSOCK", "not a socket"],
  ["EDESTADDRREQ", "destination address required"],
  ["EMSGSIZE", "message too long"],
  ["EPROTOTYPE", "incorrect protocol type"],
  ["ENOPROTOOPT", "protocol not available"],
  ["EPROTONOSUPPORT", "protocol not supported"],
  ["ESOCKTNOSUPPORT", "socket type not supported"],
  ["EOPNOTSUPP", "operation not supported"],
  ["EPFNOSUPPORT", "protocol family not supported"],
  ["EAFNOSUPPORT", "address family not supported"],
  ["EADDRINUSE", "address already used"],
  ["EADDRNOTAVAIL", "address not available"],
  ["ENETDOWN", "network down"],
  ["ENETUNREACH", "network unreachable"],
  ["ENETRESET", "network reset"],
  ["ECONNABORTED", "connection aborted"],
  ["ECONNRESET", "connection reset"],
  ["ENOBUFS", "out of buffer space"],
  ["EISCONN", "already connected"],
  ["ENOTCONN", "not connected"],
  ["ESHUTDOWN", "socket shut down"],
  ["ETOOMANYREFS", "too many references"],
  ["ELOOP", "symbolic link loop"],
  ["ENAMETOOLONG", "file name too long"],
  ["EHOSTDOWN", "host down"],
  ["EHOSTUNREACH", "host unreachable"],
  ["ENOTEMPTY", "directory not empty"],
  ["EUSERS", "too many users"],
  ["EDQUOT", "disk quota exceeded"],
  ["ESTALE", "stale NFS file handle"],
  ["EREMOTE", "too many levels of remote in path"],
  ["ENOLCK", "no locks available"],
  ["ENOSYS", "system call not available"],
  ["ENOSTR", "not a stream device"],
  ["ETIME", "timer expired"],
  ["ENOSR", "out of stream resources"],
  ["ENOMSG", "no message of desired type"],
  ["EBADMSG", "bad message type"],
  ["EIDRM", "identifier removed"],
  ["ENONET", "machine not on network"],
  ["ENOLINK", "link severed"],
  ["EADV", "advertise error"],
  ["ESRMNT", "srmount error"],
  ["ECOMM", "communication error"],
  ["EMULTIHOP", "multihop attempted"],
  ["EREMCHG", "remote address changed"],
];

let texts: Map<number, string> | undefined;

/**
 * runit's text for an errno value; "unknown error" for a value djb's table
 * does not list (as error_str says), so an unlisted code never reads as some
 * other error.
 *
 * @example
 * ```ts
 * import { errorText } from "./errno.ts";
 * errorText(2); // "file does not exist"
 * errorText(133); // "unknown error" (EHWPOISON: djb has no text for it)
 * ```
 */
export function errorText(code: number): string {
  if (code === 0) return "no error";
  if (!texts) {
    texts = new Map();
    for (const [name, text] of TEXTS) {
      if (!texts.has(Errno[name])) texts.set(Errno[name], text);
    }
  }
  return texts.get(code) ?? "unknown error";
}

/** A failed system call: `message` is runit-style, "unable to X: text". */
export class SysError extends Error {
  /** The errno value. */
  readonly errno: number;
  /** What was attempted, e.g. "open supervise/status". */
  readonly operation: string;

  /**
   * The failure of `operation` with errno `code`.
   *
   * @example
   * ```ts
   * import { SysError } from "./errno.ts";
   * new SysError("open supervise/ok", 6).message;
   * // "unable to open supervise/ok: device not configured"
   * ```
   */
  constructor(operation: string, code: number) {
    super(`unable to ${operation}: ${errorText(code)}`);
    this.name = "SysError";
    this.errno = code;
    this.operation = operation;
  }
}

/**
 * What {@link errnoOf} returns for an error that carries no errno: no errno
 * value, so {@link errorText} gives djb's "unknown error" for it.
 *
 * @example
 * ```ts
 * import { errorText, UNKNOWN_ERRNO } from "./errno.ts";
 * errorText(UNKNOWN_ERRNO); // "unknown error"
 * ```
 */
export const UNKNOWN_ERRNO = -1;

const OS_ERROR = /\(os error (\d+)\)/;

/**
 * The errno behind an error: a {@link SysError}'s; for an error thrown by a
 * Deno API, its symbolic `code` (any Linux name) or, when Deno gives it no
 * code (ETXTBSY, for one), the "(os error N)" in its message. Anything else
 * is {@link UNKNOWN_ERRNO}, which {@link errorText} calls "unknown error".
 *
 * @example
 * ```ts
 * import { errnoOf } from "./errno.ts";
 * try { Deno.readDirSync("/nonexistent").next(); } catch (e) { errnoOf(e); } // 2
 * errnoOf(new Error("no errno here")); // -1
 * ```
 */
export function errnoOf(error: unknown): number {
  if (error instanceof SysError) return error.errno;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && Object.hasOwn(Errno, code)) return Errno[code as ErrnoName];
  const message = (error as { message?: unknown })?.message;
  const match = typeof message === "string" ? OS_ERROR.exec(message) : null;
  return match ? Number(match[1]) : UNKNOWN_ERRNO;
}

/**
 * What to say about a caught value: an Error's message, anything else as a
 * string (a handler may throw a non-Error).
 *
 * @example
 * ```ts
 * import { messageOf, SysError } from "./errno.ts";
 * messageOf(new SysError("open supervise/lock", 13)); // "unable to open supervise/lock: access denied"
 * messageOf("gone"); // "gone"
 * ```
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
