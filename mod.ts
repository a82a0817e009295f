/**
 * Query and control runit services from Deno programs. Works against any
 * runsv that keeps runit's `supervise/` files: this project's and runit's own.
 *
 * Needs `--allow-read --allow-write --allow-ffi` (FFI opens the FIFOs without
 * blocking, which Deno's file API cannot do).
 *
 * @example
 * ```ts ignore
 * import { control, readStatus } from "./mod.ts";
 *
 * const web = readStatus("/etc/service/web");
 * console.log(web.state, web.pid, web.uptime, web.log?.state);
 *
 * await control("/etc/service/web", "restart", { timeout: 7000 });
 * ```
 *
 * @module
 */

import { openServiceDir, type Probe, probeStatus, sendControl } from "./src/supervise/client.ts";
import {
  type Command,
  commandActs,
  commandProgress,
  needsSending,
  ReadyWait,
  runCheckScript,
  waitLoop,
} from "./src/supervise/command.ts";
import {
  type Readiness,
  readReadiness,
  type ServiceInfo,
  serviceInfo,
} from "./src/supervise/info.ts";
import type { ServiceStatus } from "./src/supervise/status.ts";
import { closeFd, Errno, errnoOf, now } from "./src/sys/mod.ts";

export type { Command } from "./src/supervise/command.ts";
export type { RunState } from "./src/supervise/status.ts";
export type { NotifyKind, ServiceInfo } from "./src/supervise/info.ts";
export { decodeStatus, encodeStatus, type ServiceStatus } from "./src/supervise/status.ts";

/** No supervisor (runsv) is running for this directory. */
export class NotSupervisedError extends Error {
  /** The directory. */
  readonly dir: string;

  /**
   * An error for `dir`, whose message is sv's "runsv not running".
   *
   * @example
   * ```ts
   * import { NotSupervisedError } from "./mod.ts";
   * new NotSupervisedError("/etc/service/web").message;
   * // "/etc/service/web: runsv not running"
   * ```
   */
  constructor(dir: string) {
    super(`${dir}: runsv not running`);
    this.name = "NotSupervisedError";
    this.dir = dir;
  }
}

/** The directory or its supervise/ files could not be read. */
export class ServiceError extends Error {
  /**
   * An error with the message given (directory, then what failed).
   *
   * @example
   * ```ts
   * import { ServiceError } from "./mod.ts";
   * new ServiceError("web: unable to open supervise/ok: access denied");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "ServiceError";
  }
}

/** The status in `probe`: throws when no supervisor answers or it cannot be read. */
function statusIn(dir: string, probe: Probe): ServiceStatus {
  if (probe.kind === "not-running") throw new NotSupervisedError(dir);
  if (probe.kind === "error") throw new ServiceError(`${dir}: ${probe.message}`);
  return probe.status;
}

function statusAt(dir: string, dirFd: number, nowSec: number): ServiceInfo {
  return serviceInfo(dir, dirFd, { status: statusIn(dir, probeStatus(dirFd)), nowSec });
}

function openDir(dir: string, options: { dirFd?: number } = {}): number {
  try {
    return openServiceDir(dir, options);
  } catch (error) {
    throw new ServiceError(`${dir}: ${(error as Error).message}`);
  }
}

/**
 * The status of the service in `dir`, with its log service's when it has
 * one. Throws {@link NotSupervisedError} when no runsv runs there.
 *
 * @example
 * ```ts ignore
 * import { readStatus } from "./mod.ts";
 * const { state, pid, uptime } = readStatus("/etc/service/web");
 * ```
 */
export function readStatus(dir: string): ServiceInfo {
  const dirFd = openDir(dir);
  try {
    const nowSec = now().sec;
    const info = statusAt(dir, dirFd, nowSec);
    let logFd: number | undefined;
    try {
      logFd = openServiceDir("log", { dirFd });
    } catch (error) {
      if (errnoOf(error) !== Errno.ENOENT) throw new ServiceError(`${dir}/log: unable to open`);
    }
    if (logFd !== undefined) {
      try {
        info.log = statusAt(`${dir}/log`, logFd, nowSec);
      } catch (error) {
        if (!(error instanceof NotSupervisedError)) throw error;
      } finally {
        closeFd(logFd);
      }
    }
    return info;
  } finally {
    closeFd(dirFd);
  }
}

/**
 * Whether a runsv supervises `dir` now.
 *
 * @example
 * ```ts ignore
 * import { isSupervised } from "./mod.ts";
 * if (!isSupervised("/etc/service/web")) console.log("start runsvdir first");
 * ```
 */
export function isSupervised(dir: string): boolean {
  const dirFd = openDir(dir);
  try {
    return probeStatus(dirFd).kind !== "not-running";
  } finally {
    closeFd(dirFd);
  }
}

/** A command did not take effect within the timeout given to {@link control}. */
export class TimeoutError extends Error {
  /** The directory the command was sent to (`…/log` for a log service). */
  readonly dir: string;
  /** The command. */
  readonly command: Command;
  /** The last status seen. */
  readonly status: ServiceInfo;

  /**
   * An error for `command` sent to `dir`, whose message reads like sv's.
   *
   * @example
   * ```ts
   * import { readStatus, TimeoutError } from "./mod.ts";
   * const error = new TimeoutError("/etc/service/web", "up", {
   *   status: readStatus("/etc/service/web"),
   * });
   * error.message; // "timeout: /etc/service/web: up has not taken effect"
   * ```
   */
  constructor(dir: string, command: Command, options: { status: ServiceInfo }) {
    super(`timeout: ${dir}: ${command} has not taken effect`);
    this.name = "TimeoutError";
    this.dir = dir;
    this.command = command;
    this.status = options.status;
  }
}

/** Options for {@link control}. */
export interface ControlOptions {
  /**
   * Wait up to this many ms for the command to take effect (default: do not
   * wait), by sv's rules, `./check` included.
   */
  timeout?: number;
  /** Send to the log service (`dir/log`) instead. */
  log?: boolean;
  /** Stops waiting: `control` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Send a command to the service in `dir` (as sv does: not when the service
 * already wants that); with `timeout`, wait until it has taken effect by
 * sv's rules and resolve with the new status. A restart is done when the
 * service has started again after the command was sent, and, for `up` and
 * the restarts, when the service is ready (if it declares readiness: a
 * `notification-fd` or `notify-socket` file) and its `./check` exits 0.
 * Rejects with {@link NotSupervisedError}, {@link ServiceError} (also
 * `DIR: down before ready` when the service went down before it was ready),
 * {@link TimeoutError}, or the reason of an aborted `signal`. After `exit`, resolves with the last
 * status seen before runsv went away.
 *
 * @example
 * ```ts ignore
 * import { control } from "./mod.ts";
 * const info = await control("/etc/service/web", "down", {
 *   timeout: 7000,
 *   signal: AbortSignal.timeout(10_000),
 * });
 * info.state; // "down"
 * ```
 */
export async function control(
  dir: string,
  command: Command,
  options: ControlOptions = {},
): Promise<ServiceInfo> {
  const { signal } = options;
  signal?.throwIfAborted();
  const target = options.log ? `${dir}/log` : dir;
  const acts = commandActs(command);
  const sent = now();
  const dirFd = openDir(target);
  let last: ServiceInfo;
  try {
    const status = statusIn(target, probeStatus(dirFd));
    last = serviceInfo(target, dirFd, { status, nowSec: sent.sec });
    if (needsSending(acts, status)) {
      const result = sendControl(dirFd, acts);
      if (result === "not-running") throw new NotSupervisedError(target);
      if (result !== "sent") throw new ServiceError(`${target}: ${result.error}`);
    }
  } finally {
    closeFd(dirFd);
  }
  if (options.timeout === undefined) return last;
  const readyWait = new ReadyWait();
  await waitLoop([target], async (_, { tnow, late }) => {
    const dirFd = openDir(target);
    try {
      const probe = probeStatus(dirFd);
      if (probe.kind === "not-running" && acts === "x") return true;
      let readiness: Readiness | undefined;
      last = serviceInfo(target, dirFd, { status: statusIn(target, probe), nowSec: tnow.sec });
      const progress = await commandProgress(acts, probe, {
        sent,
        check: async () => (await runCheckScript(dirFd, { service: target })).passed,
        ready: (status) => readyWait.step(status, readiness = readReadiness(dirFd, status)),
      });
      // What the wait saw ready (read after `last`) is what the caller gets.
      if (progress === "done" && readiness) last = { ...last, ...readiness };
      if (progress === "done") return true;
      if (progress === "unready") throw new ServiceError(`${target}: down before ready`);
      if (late) throw new TimeoutError(target, command, { status: last });
      return false;
    } finally {
      closeFd(dirFd);
    }
  }, { start: sent, timeout: options.timeout, signal, watch: [`${target}/supervise`] });
  return last;
}
