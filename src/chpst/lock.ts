/**
 * The lock of `chpst -l/-L` and `setlock`: the file opened for appending
 * (created 0600), an exclusive flock, and the descriptor left open for the
 * program, at the number a C program would have got for it.
 *
 * @module
 */

import {
  AT_FDCWD,
  LOCK,
  lowestUninherited,
  O,
  openAt,
  replaceFd,
  type SysError,
  tryLock,
  waitLock,
} from "../sys/mod.ts";
import { Errno } from "../sys/mod.ts";

/** Which step failed, and why. */
export interface LockFailure {
  /** "open" the file, or "lock" it. */
  step: "open" | "lock";
  /** The errno. */
  errno: number;
}

/**
 * Open `path` and take an exclusive lock on it, waiting for it when `wait`.
 * On success the descriptor is kept open across exec, moved to the lowest
 * number this process would pass on (our runtime holds low numbers with
 * close-on-exec; those are given up, as the program is about to replace
 * us). Returns undefined on success, else the failure.
 *
 * @example
 * ```ts ignore
 * import { takeLock } from "./lock.ts";
 * const failure = await takeLock("/run/web.lock", { wait: false });
 * ```
 */
export async function takeLock(
  path: string,
  options: { wait: boolean },
): Promise<LockFailure | undefined> {
  let fd: number;
  try {
    fd = openAt(AT_FDCWD, path, { flags: O.WRONLY | O.NONBLOCK | O.APPEND | O.CREAT, mode: 0o600 });
  } catch (error) {
    return { step: "open", errno: (error as SysError).errno };
  }
  try {
    if (options.wait) await waitLock(fd, LOCK.EX);
    else if (!tryLock(fd, LOCK.EX)) return { step: "lock", errno: Errno.EAGAIN };
  } catch (error) {
    return { step: "lock", errno: (error as SysError).errno };
  }
  replaceFd(lowestUninherited(fd), fd, { move: true });
  return undefined;
}
