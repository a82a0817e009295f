/**
 * The one loader for the tiny static programs embedded in this folder (the
 * session helper, the log placeholder): an image is written into a
 * close-on-exec memfd and run as `/proc/self/fd/N`, so nothing is installed
 * on disk and nothing outlives the process that loaded it.
 *
 * @module
 */

import { cstring, errno, libc } from "./libc.ts";
import { Errno } from "./errno.ts";
import { AT_FDCWD, closeFd, statAt } from "./fs.ts";
import { duplicateFd, writeAll } from "./descriptors.ts";

const MFD_CLOEXEC = 0x1;
const MFD_EXEC = 0x10;
/** A loaded program's descriptor stays above the ones children get installed (0 to 3). */
const LOW_FDS = 3;
/** Where a program's descriptor goes when it would be one of those. */
const ASIDE_FD = 10;

/** A program in a memfd. */
export interface LoadedProgram {
  /** The memfd (close-on-exec). */
  fd: number;
  /** `/proc/self/fd/N`: what to execve. */
  path: string;
}

/**
 * The bytes of a base64 image, as the image constants are written.
 *
 * @example
 * ```ts
 * import { decodeImage } from "./memfd.ts";
 * decodeImage("f0VMRg=="); // Uint8Array [127, 69, 76, 70]
 * ```
 */
export function decodeImage(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/**
 * Write `image` into a close-on-exec memfd named `name` (above descriptor
 * 3): undefined when this kernel or /proc will not let it be run that way.
 *
 * @example
 * ```ts ignore
 * import { loadProgram } from "./memfd.ts";
 * import { logPlaceholderImage } from "./log_placeholder.ts";
 * const loaded = loadProgram("runit-log-placeholder", logPlaceholderImage(Deno.build.arch)!);
 * ```
 */
export function loadProgram(
  name: string,
  image: Uint8Array<ArrayBuffer>,
): LoadedProgram | undefined {
  const c = libc();
  const label = cstring(name);
  let fd = c.memfd_create(label, MFD_CLOEXEC | MFD_EXEC);
  // MFD_EXEC is Linux 6.3 and later; before, every memfd is executable.
  if (fd === -1 && errno() === Errno.EINVAL) fd = c.memfd_create(label, MFD_CLOEXEC);
  if (fd === -1) return undefined;
  try {
    if (fd <= LOW_FDS) fd = duplicateFd(fd, { min: ASIDE_FD, move: true });
    const path = `/proc/self/fd/${fd}`;
    if (writeAll(fd, image) === image.length && statAt(AT_FDCWD, path) !== undefined) {
      return { fd, path };
    }
  } catch {
    // Unusable here.
  }
  closeFd(fd);
  return undefined;
}
