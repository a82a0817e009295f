/**
 * The status of a service as an object: the one mapping from the 20-byte
 * status (and the `down` file) to named fields, shared by the library's
 * `readStatus` and `sv status --json`.
 *
 * @module
 */

import { isNormallyUp } from "./client.ts";
import type { RunState, ServiceStatus } from "./status.ts";

/** The status of one supervised service (or of its log service). */
export interface ServiceInfo {
  /** The directory that was asked about. */
  dir: string;
  /** down, run or finish. */
  state: RunState;
  /** The pid of `./run` (or `./finish`), undefined when none runs. */
  pid: number | undefined;
  /** When the state last changed. */
  since: Date;
  /** Whole seconds since then, as sv prints. */
  uptime: number;
  /** Stopped by `pause` and not continued. */
  paused: boolean;
  /** What the supervisor has been told: up or down (exit shows as down). */
  want: "up" | "down";
  /** A TERM was sent and the process has not exited since. */
  gotTerm: boolean;
  /** False when a `down` file makes the service start only on request. */
  normallyUp: boolean;
  /** The log service, when `log/` exists and is supervised. */
  log?: ServiceInfo;
}

/**
 * The {@link ServiceInfo} of the service in `dir` (open as `dirFd`) whose
 * status is `status`, with the uptime counted to `nowSec`. Throws when the
 * `down` file cannot be checked.
 *
 * @example
 * ```ts ignore
 * import { serviceInfo } from "./info.ts";
 * import { openServiceDir, probeStatus } from "./client.ts";
 * const dirFd = openServiceDir("/etc/service/web");
 * const probe = probeStatus(dirFd);
 * if (probe.kind === "status") {
 *   serviceInfo("/etc/service/web", dirFd, { status: probe.status, nowSec: Date.now() / 1000 });
 * }
 * ```
 */
export function serviceInfo(
  dir: string,
  dirFd: number,
  options: { status: ServiceStatus; nowSec: number },
): ServiceInfo {
  const { status } = options;
  return {
    dir,
    state: status.state,
    pid: status.pid || undefined,
    since: new Date(status.sec * 1000 + Math.floor(status.nsec / 1e6)),
    uptime: Math.max(0, Math.floor(options.nowSec) - status.sec),
    paused: status.paused,
    want: status.want,
    gotTerm: status.gotTerm,
    normallyUp: isNormallyUp(dirFd),
  };
}
