/**
 * runit's fixed files under /etc/runit (runit 2.3.0's runit.h; Debian moves
 * stopit and reboot to /run), shared by runit(8) and runit-init(8).
 *
 * @module
 */

import { AT_FDCWD, S, statAt } from "../sys/fs.ts";

/** The three stages, in order: boot, run, shut down. */
export const STAGES = ["/etc/runit/1", "/etc/runit/2", "/etc/runit/3"] as const;
/** Executable by its owner: a CONT to process 1 in stage 2 means shut down. */
export const STOPIT = "/etc/runit/stopit";
/** Executable by its owner: reboot after stage 3 (else power off or halt). */
export const REBOOT = "/etc/runit/reboot";
/** Present: no sync(2) after stage 3. */
export const NOSYNC = "/etc/runit/nosync";
/** Executable by its owner: run on ctrl-alt-del (SIGINT to process 1) in stage 2. */
export const CTRLALTDEL = "/etc/runit/ctrlaltdel";

/**
 * Whether `path` exists (following symlinks, as stat(2)) with its owner's
 * execute bit set, runit's test for stopit, reboot and ctrlaltdel.
 *
 * @example
 * ```ts
 * import { ownerExecutable, STOPIT } from "./paths.ts";
 * ownerExecutable(STOPIT); // true after `runit-init 0`, until runit acts on it
 * ```
 */
export function ownerExecutable(path: string): boolean {
  try {
    return ((statAt(AT_FDCWD, path)?.mode ?? 0) & S.IXUSR) !== 0;
  } catch {
    return false;
  }
}

/**
 * Whether stat(2) of `path` succeeds, as runit tests nosync (any failure
 * counts as absent, so the sync is done).
 *
 * @example
 * ```ts
 * import { exists, NOSYNC } from "./paths.ts";
 * exists(NOSYNC); // false on most systems
 * ```
 */
export function exists(path: string): boolean {
  try {
    return statAt(AT_FDCWD, path) !== undefined;
  } catch {
    return false;
  }
}
