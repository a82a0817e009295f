/**
 * Adoption after a supervisor crash. runsv outlives runsvdir, and with it
 * every `supervise/lock`; our supervisors live in one process, so when it
 * dies the processes it started keep running with no supervisor. A new
 * supervisor that takes over such a directory adopts the process its
 * `supervise/status` names instead of starting a second copy, when it is
 * still that process:
 *
 * - it is alive (not a zombie);
 * - it started when the status says: for state `run` the status time is when
 *   `./run` was started (it changes only when the state does, never on `p`,
 *   `c`, `d` or a signal), so the two agree within runit's one-second
 *   resolution (allowed: {@link START_TOLERANCE} seconds, as the boot time
 *   the kernel's start time counts from is whole seconds); for state
 *   `finish` the time is still that of `./run`, so `./finish` must have
 *   started after it;
 * - its working directory is the unit's directory (the service's, or `log/`).
 *
 * A pid reused by an unrelated process fails the start time or the
 * directory check, and is left alone.
 *
 * @module
 */

import { closeFd, openPidFd, processInDirectory, processStart } from "../sys/mod.ts";
import { readStatusFile } from "./client.ts";
import type { ServiceStatus } from "./status.ts";

/** Seconds the process start may differ from the status time (either side). */
const START_TOLERANCE = 2;

/** A process found running in a unit's directory, pinned by a pidfd. */
export interface Adoptable {
  /** The status the crashed supervisor left (pid, state, time, want, flags). */
  status: ServiceStatus;
  /** A pidfd of `status.pid`: readable once the process exits. */
  pidFd: number;
}

/**
 * The process `PREFIXsupervise/status` names, when it still runs in the
 * unit's directory `unitFd` and is the one the status was written for;
 * undefined otherwise (no status, nothing running, gone, or another process
 * with the same pid).
 *
 * @example
 * ```ts ignore
 * import { findAdoptable } from "./adopt.ts";
 * import { AT_FDCWD, O, openAt } from "../sys/mod.ts";
 * const dirFd = openAt(AT_FDCWD, "/etc/sv/web", { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
 * findAdoptable(dirFd, { prefix: "", unitFd: dirFd })?.status.pid;
 * ```
 */
export function findAdoptable(
  serviceFd: number,
  options: { prefix: "" | "log/"; unitFd: number },
): Adoptable | undefined {
  const status = readStatusFile(serviceFd, `${options.prefix}supervise/status`);
  if (!status || status.pid <= 0 || status.state === "down") return undefined;
  let pidFd: number;
  try {
    // Pinned first: the checks below then cannot race with a reuse of the pid.
    pidFd = openPidFd(status.pid);
  } catch {
    return undefined;
  }
  if (!sameProcess(status, options.unitFd)) {
    closeFd(pidFd);
    return undefined;
  }
  return { status, pidFd };
}

function sameProcess(status: ServiceStatus, unitFd: number): boolean {
  const started = processStart(status.pid);
  if (!started) return false;
  const difference = started.sec + started.nsec / 1e9 - (status.sec + status.nsec / 1e9);
  const timely = status.state === "run"
    ? Math.abs(difference) <= START_TOLERANCE
    : difference >= -START_TOLERANCE;
  return timely && processInDirectory(status.pid, unitFd);
}
