/**
 * The client side of `supervise/`: is a supervisor running, what is the
 * status, send control characters. Used by `sv` and by the library API; works
 * against runit's runsv and ours alike, because both speak these files.
 *
 * @module
 */

import { Errno, errnoOf, SysError } from "../sys/errno.ts";
import { AT_FDCWD, closeFd, O, openAt, readFd, readFileAt, statAt, writeFd } from "../sys/fs.ts";
import { decodeStatus, type ServiceStatus, STATUS_SIZE } from "./status.ts";

/** The outcome of asking a service directory for its status. */
export type Probe =
  | { kind: "status"; status: ServiceStatus }
  | { kind: "not-running" }
  | { kind: "error"; message: string };

/**
 * Open a service directory the way `sv` enters it (search permission is
 * enough). Throws {@link SysError} "unable to change to service directory".
 *
 * @example
 * ```ts ignore
 * import { openServiceDir } from "./client.ts";
 * const dirFd = openServiceDir("/etc/service/web");
 * ```
 */
export function openServiceDir(path: string, options: { dirFd?: number } = {}): number {
  return openAt(options.dirFd ?? AT_FDCWD, path, {
    flags: O.PATH | O.DIRECTORY | O.CLOEXEC,
    what: "change to service directory",
  });
}

/**
 * Read the status of the service whose directory descriptor is `dirFd`, as
 * sv's svstatus_get does.
 *
 * @example
 * ```ts ignore
 * import { openServiceDir, probeStatus } from "./client.ts";
 * const probe = probeStatus(openServiceDir("/etc/service/web"));
 * if (probe.kind === "status") console.log(probe.status.pid);
 * ```
 */
export function probeStatus(dirFd: number): Probe {
  let fd: number;
  try {
    fd = openAt(dirFd, "supervise/ok", {
      flags: O.WRONLY | O.NONBLOCK | O.CLOEXEC,
      what: "open supervise/ok",
    });
  } catch (error) {
    if (errnoOf(error) === Errno.ENXIO) return { kind: "not-running" };
    return { kind: "error", message: (error as Error).message };
  }
  closeFd(fd);
  try {
    fd = openAt(dirFd, "supervise/status", {
      flags: O.RDONLY | O.NONBLOCK | O.CLOEXEC,
      what: "open supervise/status",
    });
  } catch (error) {
    return { kind: "error", message: (error as Error).message };
  }
  const buffer = new Uint8Array(STATUS_SIZE);
  let n: number;
  try {
    n = readFd(fd, buffer);
  } catch (error) {
    return {
      kind: "error",
      message: new SysError("read supervise/status", errnoOf(error)).message,
    };
  } finally {
    closeFd(fd);
  }
  if (n !== STATUS_SIZE) {
    return { kind: "error", message: "unable to read supervise/status: bad format" };
  }
  return { kind: "status", status: decodeStatus(buffer) };
}

/**
 * The status in `path` (relative to `dirFd`; `supervise/status` by default),
 * without asking whether a supervisor runs; undefined when it cannot be read
 * or is not {@link STATUS_SIZE} bytes.
 *
 * @example
 * ```ts ignore
 * import { openServiceDir, readStatusFile } from "./client.ts";
 * readStatusFile(openServiceDir("/etc/service/web"))?.pid;
 * ```
 */
export function readStatusFile(
  dirFd: number,
  path = "supervise/status",
): ServiceStatus | undefined {
  let bytes: Uint8Array;
  try {
    bytes = readFileAt(dirFd, path, STATUS_SIZE + 1);
  } catch {
    return undefined;
  }
  return bytes.length === STATUS_SIZE ? decodeStatus(bytes) : undefined;
}

/**
 * Whether the service starts by default: no `down` file. Throws
 * {@link SysError} when `down` cannot be checked.
 *
 * @example
 * ```ts ignore
 * import { isNormallyUp, openServiceDir } from "./client.ts";
 * isNormallyUp(openServiceDir("/etc/service/web"));
 * ```
 */
export function isNormallyUp(dirFd: number): boolean {
  return statAt(dirFd, "down") === undefined;
}

/** The outcome of writing to `supervise/control`. */
export type SendResult = "sent" | "not-running" | { error: string };

/**
 * Write control characters to `supervise/control` without blocking.
 *
 * @example
 * ```ts ignore
 * import { openServiceDir, sendControl } from "./client.ts";
 * sendControl(openServiceDir("/etc/service/web"), "tcu");
 * ```
 */
export function sendControl(dirFd: number, commands: string): SendResult {
  let fd: number;
  try {
    fd = openAt(dirFd, "supervise/control", {
      flags: O.WRONLY | O.NONBLOCK | O.CLOEXEC,
      what: "open supervise/control",
    });
  } catch (error) {
    if (errnoOf(error) === Errno.ENXIO) return "not-running";
    return { error: (error as Error).message };
  }
  try {
    const bytes = new TextEncoder().encode(commands);
    if (writeFd(fd, bytes) !== bytes.length) {
      return { error: "unable to write to supervise/control: temporary failure" };
    }
    return "sent";
  } catch (error) {
    return { error: new SysError("write to supervise/control", errnoOf(error)).message };
  } finally {
    closeFd(fd);
  }
}
