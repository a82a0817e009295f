/**
 * The status of a service as an object: the one mapping from the 20-byte
 * status (and the `down` file) to named fields, shared by the library's
 * `readStatus` and `sv status --json`; and the one reading of readiness
 * (`notification-fd`, `notify-socket`, `supervise/ready`), shared by those
 * and by sv's status line and its waits.
 *
 * @module
 */

import { isNormallyUp, readStatusFile } from "./client.ts";
import { readFileAt, statAt } from "../sys/fs.ts";
import { decodeTai64n, type RunState, type ServiceStatus, TAI64N_SIZE } from "./status.ts";

/**
 * How a service declares readiness: `fd`, s6's `notification-fd` file (a
 * newline on that descriptor), or `socket`, an empty `notify-socket` file
 * (systemd's `READY=1` on `$NOTIFY_SOCKET`). `notification-fd` wins when
 * both exist.
 */
export type NotifyKind = "fd" | "socket";

/** Where the supervisor records readiness: the TAI64N label of the moment it was seen. */
export const READY_FILE = "supervise/ready";
/**
 * Where the supervisor says which `./run` it watches for readiness: that
 * run's pid, in decimal, written before the status names it. A supervisor
 * that does not track readiness (Debian's runsv) never writes it, so a pid
 * that is not the status's means nobody will record readiness for this run.
 */
export const NOTIFY_FILE = "supervise/notify";
/** Where the supervisor keeps the last `STATUS=` text a `notify-socket` service sent. */
export const STATUS_TEXT_FILE = "supervise/status-text";
/** The most of a `STATUS=` text that is kept. */
export const STATUS_TEXT_MAX = 4096;

/** What a service says about its readiness. */
export interface Readiness {
  /** How it declares readiness; null when it does not. */
  notify: NotifyKind | null;
  /** When the running `./run` became ready; null when it has not (or does not declare it). */
  ready: Date | null;
  /** The last `STATUS=` text its `./run` sent (`notify-socket`), null when none. */
  statusText: string | null;
}

/**
 * How the service in `dirFd` declares readiness, or null. A declaration
 * that cannot be checked (no permission) counts as none.
 *
 * @example
 * ```ts ignore
 * import { notifyKind } from "./info.ts";
 * import { openServiceDir } from "./client.ts";
 * notifyKind(openServiceDir("/etc/service/web")); // "fd", "socket" or null
 * ```
 */
export function notifyKind(dirFd: number): NotifyKind | null {
  try {
    if (statAt(dirFd, "notification-fd") !== undefined) return "fd";
    if (statAt(dirFd, "notify-socket") !== undefined) return "socket";
  } catch {
    // Unreadable: as if absent.
  }
  return null;
}

const decoder = new TextDecoder();

/**
 * The readiness of the service in `dirFd` whose status is `status`. It is
 * ready when it declares readiness, `./run` runs, and `supervise/ready`
 * holds a moment no earlier than the status's (the start of this `./run`):
 * a file left from an earlier run, or by a supervisor that did not clear it,
 * does not count. While `./run` runs, a declaration counts only when its
 * supervisor tracks it (`supervise/notify` names the running pid): under
 * Debian's runsv, or with an unusable `notification-fd`, `notify` is null,
 * so nothing waits for a readiness nobody will record.
 *
 * @example
 * ```ts ignore
 * import { readReadiness } from "./info.ts";
 * import { openServiceDir, probeStatus } from "./client.ts";
 * const dirFd = openServiceDir("/etc/service/web");
 * const probe = probeStatus(dirFd);
 * if (probe.kind === "status") readReadiness(dirFd, probe.status).ready;
 * ```
 */
export function readReadiness(dirFd: number, status: ServiceStatus): Readiness {
  const notify = notifyKind(dirFd);
  if (notify === null) return { notify, ready: null, statusText: null };
  let ready: Date | null = null;
  if (status.state === "run" && status.pid !== 0) {
    const watched = readSmall(dirFd, NOTIFY_FILE, 16);
    if (watched === null || Number(decoder.decode(watched).trim()) !== status.pid) {
      // A restart since `status` was read also changes supervise/notify:
      // then this run is simply not ready (the caller looks again).
      if (!statusChanged(dirFd, status)) return { notify: null, ready: null, statusText: null };
      return { notify, ready: null, statusText: null };
    }
    const stamp = readSmall(dirFd, READY_FILE, TAI64N_SIZE + 1);
    if (stamp?.length === TAI64N_SIZE) {
      const { sec, nsec } = decodeTai64n(stamp);
      if (sec > status.sec || (sec === status.sec && nsec >= status.nsec)) {
        ready = new Date(sec * 1000 + Math.floor(nsec / 1e6));
      }
    }
  }
  const text = notify === "socket" ? readSmall(dirFd, STATUS_TEXT_FILE, STATUS_TEXT_MAX) : null;
  return { notify, ready, statusText: text ? decoder.decode(text) : null };
}

/** Whether `supervise/status` no longer says what `status` says (unreadable counts as changed). */
function statusChanged(dirFd: number, status: ServiceStatus): boolean {
  const now = readStatusFile(dirFd);
  if (!now) return true;
  return now.pid !== status.pid || now.sec !== status.sec || now.nsec !== status.nsec ||
    now.state !== status.state;
}

/** A small file's bytes, or null when it cannot be read. */
function readSmall(dirFd: number, path: string, limit: number): Uint8Array | null {
  try {
    return readFileAt(dirFd, path, limit);
  } catch {
    return null;
  }
}

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
  /** How the service declares readiness (`fd`: notification-fd, `socket`: notify-socket), or null. */
  notify: NotifyKind | null;
  /** When the running service became ready; null while it is not (or does not declare it). */
  ready: Date | null;
  /** The last `STATUS=` text a `notify-socket` service sent, or null. */
  statusText: string | null;
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
    ...readReadiness(dirFd, status),
  };
}
