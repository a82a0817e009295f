/**
 * Linux errno values and the texts runit prints for them. runit uses djb's
 * `error_str`, not `strerror`, so ENOENT reads "file does not exist" and
 * EAGAIN "temporary failure"; users grep for these, so we print the same.
 *
 * @module
 */

/** The errno values this project tests for by name. */
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
  ENOMEM: 12,
  EACCES: 13,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  EPIPE: 32,
  ELOOP: 40,
} as const;

/** djb's error_str texts, by Linux errno (first match of its if-chain wins). */
const TEXTS: Record<number, string> = {
  0: "no error",
  4: "interrupted system call",
  12: "out of memory",
  2: "file does not exist",
  26: "text busy",
  5: "input/output error",
  17: "file already exists",
  110: "timed out",
  115: "operation in progress",
  11: "temporary failure",
  32: "broken pipe",
  1: "permission denied",
  13: "access denied",
  6: "device not configured",
  71: "protocol error",
  21: "is a directory",
  111: "connection refused",
  20: "not a directory",
  3: "no such process",
  7: "argument list too long",
  8: "exec format error",
  9: "file descriptor not open",
  10: "no child processes",
  14: "bad address",
  15: "not a block device",
  16: "device busy",
  18: "cross-device link",
  22: "invalid argument",
  23: "system cannot open more files",
  24: "process cannot open more files",
  25: "not a tty",
  27: "file too big",
  28: "out of disk space",
  29: "unseekable descriptor",
  30: "read-only file system",
  31: "too many links",
  33: "input out of range",
  34: "output out of range",
  35: "operation would cause deadlock",
  19: "device does not support operation",
  114: "operation already in progress",
  88: "not a socket",
  89: "destination address required",
  90: "message too long",
  91: "incorrect protocol type",
  92: "protocol not available",
  93: "protocol not supported",
  94: "socket type not supported",
  95: "operation not supported",
  96: "protocol family not supported",
  97: "address family not supported",
  98: "address already used",
  99: "address not available",
  100: "network down",
  101: "network unreachable",
  102: "network reset",
  103: "connection aborted",
  104: "connection reset",
  105: "out of buffer space",
  106: "already connected",
  107: "not connected",
  108: "socket shut down",
  109: "too many references",
  40: "symbolic link loop",
  36: "file name too long",
  112: "host down",
  113: "host unreachable",
  39: "directory not empty",
  87: "too many users",
  122: "disk quota exceeded",
  116: "stale NFS file handle",
  66: "too many levels of remote in path",
  37: "no locks available",
  38: "system call not available",
  60: "not a stream device",
  62: "timer expired",
  63: "out of stream resources",
  42: "no message of desired type",
  74: "bad message type",
  43: "identifier removed",
  64: "machine not on network",
  67: "link severed",
  68: "advertise error",
  69: "srmount error",
  70: "communication error",
  72: "multihop attempted",
  78: "remote address changed",
};

/**
 * runit's text for an errno value.
 *
 * @example
 * ```ts
 * import { errorText } from "./errno.ts";
 * errorText(2); // "file does not exist"
 * ```
 */
export function errorText(code: number): string {
  return TEXTS[code] ?? "unknown error";
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

const CODE_NAMES: Record<string, number> = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  EROFS: 30,
  ELOOP: 40,
  ENAMETOOLONG: 36,
  ENOTEMPTY: 39,
};

/**
 * The errno behind an error thrown by a Deno API (which carries the symbolic
 * `code`), or EIO when it carries none.
 *
 * @example
 * ```ts
 * import { errnoOf } from "./errno.ts";
 * try { Deno.readDirSync("/nonexistent").next(); } catch (e) { errnoOf(e); } // 2
 * ```
 */
export function errnoOf(error: unknown): number {
  if (error instanceof SysError) return error.errno;
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && code in CODE_NAMES ? CODE_NAMES[code] : Errno.EIO;
}
