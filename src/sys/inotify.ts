/**
 * inotify(7), for waits that wake when a supervise directory changes.
 *
 * @module
 */

import { libc } from "./libc.ts";
import { O, readFd } from "./fs.ts";

/** Changes that count: runsv renames status.new over status; others write in place. */
const CHANGES = 0x2 /* MODIFY */ | 0x8 /* CLOSE_WRITE */ | 0x80 /* MOVED_TO */ |
  0x100 /* CREATE */ | 0x200; /* DELETE */

/**
 * An inotify descriptor watching each of `dirs` that can be watched (a
 * missing one is skipped), or undefined when none can. Close it with closeFd.
 *
 * @example
 * ```ts
 * import { closeFd, watchDirectories } from "./mod.ts";
 * const fd = watchDirectories(["/tmp"]);
 * if (fd !== undefined) closeFd(fd);
 * ```
 */
export function watchDirectories(dirs: readonly string[]): number | undefined {
  const fd = libc().inotify_init1(O.NONBLOCK | O.CLOEXEC);
  if (fd === -1) return undefined;
  let watched = 0;
  for (const dir of dirs) {
    const path = new TextEncoder().encode(`${dir}\0`);
    if (libc().inotify_add_watch(fd, path, CHANGES) !== -1) watched++;
  }
  if (watched > 0) return fd;
  libc().close(fd);
  return undefined;
}

/**
 * Wait at most `ms` for a change on an inotify descriptor (on a runtime
 * thread, so the event loop runs on); resolves whether one came, after
 * consuming the events queued so far. Do not close `fd` before it resolves.
 *
 * @example
 * ```ts
 * import { closeFd, waitForChange, watchDirectories } from "./mod.ts";
 * const fd = watchDirectories(["/tmp"]);
 * if (fd !== undefined) {
 *   await waitForChange(fd, 10);
 *   closeFd(fd);
 * }
 * ```
 */
export async function waitForChange(fd: number, ms: number): Promise<boolean> {
  const pollfd = new Uint8Array(8);
  const view = new DataView(pollfd.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, 0x1, /* POLLIN */ true);
  const ready = await libc().poll_blocking(pollfd, 1n, ms);
  if (ready <= 0) return false;
  const buffer = new Uint8Array(4096);
  try {
    while (readFd(fd, buffer) > 0) {
      // Drain: what matters is that something changed, not what.
    }
  } catch {
    // EAGAIN: drained.
  }
  return true;
}
