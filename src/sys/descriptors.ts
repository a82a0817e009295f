/**
 * Descriptor duplication: keep a copy of a descriptor and put another in
 * its place (how runsvdir routes its stderr, and its children's, through a
 * pipe it reads, and how chpst leaves its lock open for the program); and
 * the one loop that writes a whole buffer.
 *
 * @module
 */

import { errno, libc } from "./libc.ts";
import { Errno, SysError } from "./errno.ts";
import { closeFd, writeFd } from "./fs.ts";

const F_DUPFD_CLOEXEC = 1030;

/**
 * A close-on-exec duplicate of `fd` (fcntl F_DUPFD_CLOEXEC), numbered at
 * least `options.min` (default 3). With `move`, `fd` is closed once the
 * copy is made (it stays open when that fails).
 *
 * @example
 * ```ts
 * import { duplicateFd } from "./descriptors.ts";
 * const savedStderr = duplicateFd(2);
 * ```
 */
export function duplicateFd(fd: number, options: { min?: number; move?: boolean } = {}): number {
  const copy = libc().fcntl(fd, F_DUPFD_CLOEXEC, options.min ?? 3);
  if (copy === -1) throw new SysError("duplicate descriptor", errno());
  if (options.move) closeFd(fd);
  return copy;
}

/**
 * dup2(2): make `target` refer to what `source` refers to (whatever was on
 * `target` is closed). The target is not close-on-exec, so children inherit
 * it. With `options.move`, `source` is closed afterwards (runit's fd_move);
 * `target === source` changes nothing.
 *
 * @example
 * ```ts ignore
 * import { replaceFd } from "./descriptors.ts";
 * import { makePipe } from "./fs.ts";
 * const [, writeEnd] = makePipe();
 * replaceFd(2, writeEnd); // stderr now goes into the pipe
 * replaceFd(100, writeEnd, { move: true }); // now only on 100, inherited by children
 * ```
 */
export function replaceFd(target: number, source: number, options: { move?: boolean } = {}): void {
  if (target === source) return;
  if (libc().dup2(source, target) === -1) throw new SysError("replace descriptor", errno());
  if (options.move) closeFd(source);
}

/**
 * pwrite(2): write `bytes` at byte `position` of `fd` (the file offset is
 * left alone); returns the count written.
 *
 * @example
 * ```ts ignore
 * import { writeFdAt } from "./descriptors.ts";
 * import { AT_FDCWD, O, openAt } from "./fs.ts";
 * const fd = openAt(AT_FDCWD, "/tmp/file", { flags: O.WRONLY | O.CREAT | O.CLOEXEC, mode: 0o644 });
 * writeFdAt(fd, new TextEncoder().encode("x"), 10);
 * ```
 */
export function writeFdAt(fd: number, bytes: Uint8Array<ArrayBuffer>, position: number): number {
  for (;;) {
    const n = Number(libc().pwrite(fd, bytes, BigInt(bytes.length), BigInt(position)));
    if (n >= 0) return n;
    const code = errno();
    if (code !== Errno.EINTR) throw new SysError("write", code);
  }
}

/**
 * Write all of `bytes` to `fd` (with `options.at`, at that byte position
 * through pwrite, leaving the file offset alone), going on after short
 * writes: the one write-everything loop. Returns the count written, which
 * is short only when a non-blocking descriptor would block or a write took
 * nothing; throws {@link SysError} on any other failure.
 *
 * @example
 * ```ts
 * import { writeAll } from "./descriptors.ts";
 * writeAll(2, new TextEncoder().encode("runsv web: warning: ...\n"));
 * ```
 */
export function writeAll(
  fd: number,
  bytes: Uint8Array<ArrayBuffer>,
  options: { at?: number } = {},
): number {
  let done = 0;
  while (done < bytes.length) {
    const rest = bytes.subarray(done);
    const n = options.at === undefined ? writeFd(fd, rest) : writeFdAt(fd, rest, options.at + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}
