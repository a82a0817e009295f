/**
 * `sv status --json` and `sv check --json`: one JSON object per service and
 * line (JSON Lines), with the field names the README documents. Loaded only
 * when `--json` is given, so plain sv does not pay for it.
 *
 * @module
 */

import { Errno, errnoOf, errorText } from "./sys/errno.ts";
import { closeFd } from "./sys/fs.ts";
import { openServiceDir, probeStatus } from "./supervise/client.ts";
import { serviceInfo } from "./supervise/info.ts";

/** One service (or log service) as `--json` prints it. */
export interface StatusObject {
  /** The service as named on the command line (`web/log` for its log service). */
  name: string;
  /** The directory sv opened. */
  path: string;
  /** Why there is no status (`runsv not running`, …); the other fields are then absent. */
  error?: string;
  state?: "down" | "run" | "finish";
  pid?: number | null;
  uptime?: number;
  since?: string;
  want?: "up" | "down";
  paused?: boolean;
  gotTerm?: boolean;
  normallyUp?: boolean;
  /** How the service declares readiness (`fd`: notification-fd, `socket`: notify-socket), or null. */
  notify?: "fd" | "socket" | null;
  /** ISO time the running service became ready; null while it is not, or does not declare it. */
  ready?: string | null;
  /** The last `STATUS=` text a notify-socket service sent, or null. */
  statusText?: string | null;
  /** The log service's fields, or null when the service has no `log/`. */
  log?: StatusObject | null;
  /** For `check`: `ok`, or `timeout` when the wait ended first. */
  check?: "ok" | "timeout";
}

/** A status object and how many failures sv counts for it (its exit code). */
export interface JsonStatus {
  object: StatusObject;
  errors: number;
}

/**
 * The status of one service directory (open as `dirFd`) and of its log
 * service, as sv's `status` reports it: `errors` counts what plain
 * `sv status` counts (runsv not running, unreadable status) for the exit code.
 *
 * @example
 * ```ts ignore
 * import { statusObject } from "./sv_json.ts";
 * import { openServiceDir } from "./supervise/client.ts";
 * const dirFd = openServiceDir("/etc/service/web");
 * const { object } = statusObject(dirFd, { name: "web", path: "/etc/service/web", nowSec: 0 });
 * console.log(JSON.stringify(object));
 * ```
 */
export function statusObject(
  dirFd: number,
  options: { name: string; path: string; nowSec: number },
): JsonStatus {
  const { name, path } = options;
  const own = oneObject(dirFd, options);
  if (own.object.error !== undefined) return own;
  let logFd: number | undefined;
  const logName = { name: `${name}/log`, path: `${path}/log`, nowSec: options.nowSec };
  try {
    logFd = openServiceDir("log", { dirFd });
  } catch (error) {
    const code = errnoOf(error);
    if (code === Errno.ENOENT) return { object: { ...own.object, log: null }, errors: own.errors };
    const message = `unable to change directory: ${errorText(code)}`;
    return {
      object: { ...own.object, log: { name: logName.name, path: logName.path, error: message } },
      errors: own.errors + 1,
    };
  }
  try {
    const log = oneObject(logFd, logName);
    return { object: { ...own.object, log: log.object }, errors: own.errors + log.errors };
  } finally {
    closeFd(logFd);
  }
}

function oneObject(
  dirFd: number,
  options: { name: string; path: string; nowSec: number },
): JsonStatus {
  const { name, path } = options;
  const probe = probeStatus(dirFd);
  if (probe.kind === "not-running") {
    return { object: { name, path, error: "runsv not running" }, errors: 1 };
  }
  if (probe.kind === "error") return { object: { name, path, error: probe.message }, errors: 1 };
  let info;
  try {
    info = serviceInfo(path, dirFd, { status: probe.status, nowSec: options.nowSec });
  } catch (error) {
    // As plain sv: a warning, not counted in the exit code.
    const message = `unable to stat ${name}/down: ${errorText(errnoOf(error))}`;
    return { object: { name, path, error: message }, errors: 0 };
  }
  return {
    object: {
      name,
      path,
      state: info.state,
      pid: info.pid ?? null,
      uptime: info.uptime,
      since: info.since.toISOString(),
      want: info.want,
      paused: info.paused,
      gotTerm: info.gotTerm,
      normallyUp: info.normallyUp,
      notify: info.notify,
      ready: info.ready?.toISOString() ?? null,
      statusText: info.statusText,
    },
    errors: 0,
  };
}

/**
 * One JSON Lines line for `object`.
 *
 * @example
 * ```ts
 * import { jsonLine } from "./sv_json.ts";
 * jsonLine({ name: "web", path: "/etc/service/web", error: "runsv not running" });
 * // '{"name":"web","path":"/etc/service/web","error":"runsv not running"}\n'
 * ```
 */
export function jsonLine(object: StatusObject): string {
  return `${JSON.stringify(object)}\n`;
}
