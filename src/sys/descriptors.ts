/**
 * Descriptor duplication: keep a copy of a descriptor and put another in
 * its place (how runsvdir routes its stderr, and its children's, through a
 * pipe it reads).
 *
 * @module
 */

import { errno, libc } from "./libc.ts";
import { Errno, SysError } from "./errno.ts";

const F_DUPFD_CLOEXEC = 1030;

/**
 * A close-on-exec duplicate of `fd` (fcntl F_DUPFD_CLOEXEC), numbered at
 * least `options.min` (default 3).
 *
 * @example
 * ```ts
 * import { duplicateFd } from "./descriptors.ts";
 * const savedStderr = duplicateFd(2);
 * ```
 */
export function duplicateFd(fd: number, options: { min?: number } = {}): number {
  const copy = libc().fcntl(fd, F_DUPFD_CLOEXEC, options.min ?? 3);
  if (copy === -1) throw new SysError("duplicate descriptor", errno());
  return copy;
}

/**
 * dup2(2): make `target` refer to what `source` refers to. The target is
 * not close-on-exec, so children inherit it.
 *
 * @example
 * ```ts ignore
 * import { replaceFd } from "./descriptors.ts";
 * import { makePipe } from "./fs.ts";
 * const [, writeEnd] = makePipe();
 * replaceFd(2, writeEnd); // stderr now goes into the pipe
 * ```
 */
export function replaceFd(target: number, source: number): void {
  if (libc().dup2(source, target) === -1) throw new SysError("replace descriptor", errno());
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
