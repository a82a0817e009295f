/**
 * inotify(7), for waits that wake when a supervise directory changes.
 *
 * @module
 */

import { errno, libc } from "./libc.ts";
import { Errno, SysError } from "./errno.ts";
import { O, POLL, pollReadyLater, readFd } from "./fs.ts";

/**
 * Changes that count: runsv renames status.new over status, others write in
 * place; an entry of a service directory comes (created, moved in), goes
 * (deleted, moved out) or changes mode; the directory itself goes away.
 */
const CHANGES = 0x2 /* MODIFY */ | 0x4 /* ATTRIB */ | 0x8 /* CLOSE_WRITE */ |
  0x40 /* MOVED_FROM */ | 0x80 /* MOVED_TO */ | 0x100 /* CREATE */ | 0x200 /* DELETE */ |
  0x400 /* DELETE_SELF */ | 0x800; /* MOVE_SELF */

/**
 * An inotify descriptor (non-blocking) watching each of `dirs` that can be
 * watched; a missing one is skipped. Throws {@link SysError} when none can
 * be. Close it with closeFd.
 *
 * @example
 * ```ts
 * import { closeFd, watchDirectories } from "./mod.ts";
 * closeFd(watchDirectories(["/tmp"]));
 * ```
 */
export function watchDirectories(dirs: readonly string[]): number {
  const fd = libc().inotify_init1(O.NONBLOCK | O.CLOEXEC);
  if (fd === -1) throw new SysError("inotify_init1", errno());
  let code: number = Errno.ENOENT;
  let watched = 0;
  for (const dir of dirs) {
    const path = new TextEncoder().encode(`${dir}\0`);
    if (libc().inotify_add_watch(fd, path, CHANGES) !== -1) watched++;
    else code = errno();
  }
  if (watched > 0) return fd;
  libc().close(fd);
  throw new SysError(`watch ${dirs.join(", ")}`, code);
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
 * await waitForChange(fd, 10);
 * closeFd(fd);
 * ```
 */
export async function waitForChange(fd: number, ms: number): Promise<boolean> {
  if (!await pollReadyLater(fd, { events: POLL.IN, ms })) return false;
  drainChanges(fd);
  return true;
}

/**
 * Consume the events queued on an inotify descriptor (from
 * {@link watchDirectories}, which makes it non-blocking): what matters is
 * that something changed, not what. For a descriptor the reactor watches.
 *
 * @example
 * ```ts
 * import { closeFd, drainChanges, watchDirectories } from "./mod.ts";
 * const fd = watchDirectories(["/tmp"]);
 * drainChanges(fd);
 * closeFd(fd);
 * ```
 */
export function drainChanges(fd: number): void {
  const buffer = new Uint8Array(4096);
  try {
    while (readFd(fd, buffer) > 0) {
      // Next batch.
    }
  } catch {
    // EAGAIN: drained.
  }
}
