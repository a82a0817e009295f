/**
 * Taking over a service directory as runsv's start-up does: `supervise/`
 * (created through a dangling symlink), its lock, the `control` and `ok`
 * FIFOs, for the service and for `log/` when that is a directory, and the
 * pipe between the two.
 *
 * The steps run in runsv's order, which decides the message a user sees when
 * several things are wrong at once. What to run, and when, is the
 * Supervisor's business (supervisor.ts); this module only holds the directory.
 *
 * @module
 */

import {
  closeFd,
  errnoOf,
  errorText,
  type FileStat,
  LOCK,
  makeDirAt,
  makeFifoAt,
  makePipe,
  O,
  openAt,
  readLinkAt,
  S,
  statAt,
  SysError,
  tryLock,
} from "../sys/mod.ts";

/** A setup failure that ends this directory's supervisor (runsv exits 111). */
export class SupervisorFatal extends Error {
  /**
   * A fatal error with runsv's whole message.
   *
   * @example
   * ```ts
   * import { SupervisorFatal } from "./takeover.ts";
   * new SupervisorFatal("runsv web: fatal: supervise/control exists but is not a fifo").message;
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "SupervisorFatal";
  }
}

/** The service's supervise files (`""`) or its log's (`"log/"`), relative to the service. */
export type Prefix = "" | "log/";

/** What take-over holds for one unit: the service, or its log. */
export interface UnitHold {
  /** Path prefix of this unit's supervise files, relative to the service directory. */
  prefix: Prefix;
  /** The unit's directory: the service's own descriptor, or `log/` opened. */
  dirFd: number;
  /** A `down` file exists: the unit starts wanted down. */
  down: boolean;
  /** `supervise/lock`, flocked. */
  lockFd: number;
  /** `supervise/control`, open for reading and writing. */
  controlFd: number;
  /** `supervise/ok`, open for reading. */
  okFd: number;
}

/** Everything a taken-over service directory holds; the caller owns it all. */
export interface Holding {
  /** The service itself (its `dirFd` is the caller's). */
  main: UnitHold;
  /** The log, when `log/` is a directory. */
  log?: UnitHold;
  /** Read and write ends of the pipe from the service to its log, with `log`. */
  logPipe?: [number, number];
}

/** How {@link takeOver} reports. */
export interface TakeOverOptions {
  /** The directory as named by the caller; used in messages. */
  name: string;
  /** Receives the text of `runsv NAME: warning: TEXT` lines. */
  warn: (text: string) => void;
  /**
   * Write a unit's first status. Called where runsv writes it: once its
   * control FIFO is open, before the next unit's FIFO is touched.
   */
  firstStatus?: (unit: UnitHold) => void;
}

const DIRECTORY = O.RDONLY | O.DIRECTORY | O.CLOEXEC;

function newHold(prefix: Prefix, dirFd: number): UnitHold {
  return { prefix, dirFd, down: false, lockFd: -1, controlFd: -1, okFd: -1 };
}

function isDirectory(stat: FileStat | undefined): boolean {
  return stat !== undefined && (stat.mode & S.IFMT) === S.IFDIR;
}

/**
 * Close all that {@link takeOver} opened; the service's own descriptor stays
 * open. For a holding that no supervisor adopted.
 *
 * @example
 * ```ts ignore
 * import { releaseHolding, takeOver } from "./takeover.ts";
 * import { AT_FDCWD, O, openAt } from "../sys/mod.ts";
 * const dirFd = openAt(AT_FDCWD, "/etc/sv/web", { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
 * releaseHolding(takeOver(dirFd, { name: "/etc/sv/web", warn: () => {} }));
 * ```
 */
export function releaseHolding(holding: Holding): void {
  for (const unit of [holding.main, holding.log]) {
    if (!unit) continue;
    for (const fd of [unit.controlFd, unit.okFd, unit.lockFd]) closeFd(fd);
  }
  if (holding.log) closeFd(holding.log.dirFd);
  if (holding.logPipe) { for (const fd of holding.logPipe) closeFd(fd); }
}

/**
 * Take over the service directory open as `serviceFd`, in runsv's order.
 * Throws {@link SupervisorFatal} with runsv's message; on failure nothing
 * stays open but `serviceFd`.
 *
 * @example
 * ```ts ignore
 * import { takeOver } from "./takeover.ts";
 * import { AT_FDCWD, O, openAt } from "../sys/mod.ts";
 * const dirFd = openAt(AT_FDCWD, "/etc/sv/web", { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
 * const holding = takeOver(dirFd, { name: "/etc/sv/web", warn: (text) => console.error(text) });
 * holding.log?.controlFd;
 * ```
 */
export function takeOver(serviceFd: number, options: TakeOverOptions): Holding {
  const { name, warn } = options;
  const main = newHold("", serviceFd);
  const holding: Holding = { main };
  try {
    main.down = statAt(serviceFd, "down") !== undefined;
    let logStat: FileStat | undefined;
    try {
      logStat = statAt(serviceFd, "log");
    } catch (error) {
      warn(`unable to stat() ./log: : ${errorText(errnoOf(error))}`);
    }
    if (logStat !== undefined && !isDirectory(logStat)) {
      warn("./log: not a directory.");
    } else if (logStat !== undefined) {
      const logFd = openAt(serviceFd, "log", {
        flags: DIRECTORY,
        what: "change directory to ./log",
      });
      holding.log = newHold("log/", logFd);
      holding.log.down = statAt(serviceFd, "log/down") !== undefined;
      holding.logPipe = makePipe();
    }
    const log = holding.log;
    makeSuperviseDir(main.dirFd, { name, prefix: "" });
    main.lockFd = openLock(serviceFd, "");
    if (log) {
      makeSuperviseDir(log.dirFd, { name, prefix: "log/" });
      log.lockFd = openLock(serviceFd, "log/");
    }
    main.controlFd = openControl(serviceFd, "", { name });
    options.firstStatus?.(main);
    if (log) {
      log.controlFd = openControl(serviceFd, "log/", { name });
      options.firstStatus?.(log);
    }
    main.okFd = openOk(serviceFd, "");
    if (log) log.okFd = openOk(serviceFd, "log/");
    return holding;
  } catch (error) {
    releaseHolding(holding);
    if (error instanceof SysError) {
      throw new SupervisorFatal(`runsv ${name}: fatal: ${error.message}`);
    }
    throw error;
  }
}

/**
 * Create `supervise/` in the unit's directory `dirFd`; a dangling
 * `supervise` symlink gets its target created, as runsv does. Creation
 * errors are left for the lock to report; an unreadable link is fatal.
 *
 * @example
 * ```ts ignore
 * import { makeSuperviseDir } from "./takeover.ts";
 * import { AT_FDCWD, O, openAt } from "../sys/mod.ts";
 * const dirFd = openAt(AT_FDCWD, "/etc/sv/web", { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
 * makeSuperviseDir(dirFd, { name: "/etc/sv/web", prefix: "" });
 * ```
 */
export function makeSuperviseDir(dirFd: number, options: { name: string; prefix: Prefix }): void {
  try {
    if (makeDirAt(dirFd, "supervise", 0o700)) return;
  } catch {
    // runsv ignores mkdir errors; opening the lock reports the real problem.
  }
  let target: string | undefined;
  try {
    target = readLinkAt(dirFd, "supervise");
  } catch (error) {
    const where = `./${options.prefix}supervise`;
    throw new SupervisorFatal(
      `runsv ${options.name}: fatal: unable to readlink ${where}: ${errorText(errnoOf(error))}`,
    );
  }
  if (target !== undefined) {
    try {
      makeDirAt(dirFd, target, 0o700);
    } catch {
      // runsv ignores this; opening the lock reports the real problem.
    }
  }
}

/**
 * Open `PREFIXsupervise/lock` and take its exclusive lock without waiting.
 * Throws {@link SysError} (`unable to lock supervise/lock: temporary failure`
 * when another supervisor holds it).
 *
 * @example
 * ```ts ignore
 * import { openLock } from "./takeover.ts";
 * import { AT_FDCWD, O, openAt } from "../sys/mod.ts";
 * const dirFd = openAt(AT_FDCWD, "/etc/sv/web", { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
 * const lockFd = openLock(dirFd, "");
 * ```
 */
export function openLock(serviceFd: number, prefix: Prefix): number {
  const path = `${prefix}supervise/lock`;
  const fd = openAt(serviceFd, path, {
    flags: O.WRONLY | O.APPEND | O.CREAT | O.NONBLOCK | O.CLOEXEC,
    mode: 0o600,
    what: `open ${path}`,
  });
  let locked: boolean;
  try {
    locked = tryLock(fd, LOCK.EX);
  } catch (error) {
    closeFd(fd);
    throw new SysError(`lock ${path}`, errnoOf(error));
  }
  if (!locked) {
    closeFd(fd);
    throw new SysError(`lock ${path}`, 11);
  }
  return fd;
}

/**
 * Make `PREFIXsupervise/control` a FIFO (an existing one is kept) and open it
 * for reading and writing, so that it never reports end of file. Anything
 * else in its place is fatal: `… exists but is not a fifo`.
 *
 * @example
 * ```ts ignore
 * import { openControl } from "./takeover.ts";
 * import { AT_FDCWD, O, openAt } from "../sys/mod.ts";
 * const dirFd = openAt(AT_FDCWD, "/etc/sv/web", { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
 * const controlFd = openControl(dirFd, "", { name: "/etc/sv/web" });
 * ```
 */
export function openControl(serviceFd: number, prefix: Prefix, options: { name: string }): number {
  const path = `${prefix}supervise/control`;
  makeFifoAt(serviceFd, path, 0o600);
  const stat = statAt(serviceFd, path);
  if (stat === undefined) throw new SysError(`stat ${path}`, 2);
  if ((stat.mode & S.IFMT) !== S.IFIFO) {
    throw new SupervisorFatal(`runsv ${options.name}: fatal: ${path} exists but is not a fifo`);
  }
  return openAt(serviceFd, path, { flags: O.RDWR | O.NONBLOCK | O.CLOEXEC, what: `open ${path}` });
}

/**
 * Make `PREFIXsupervise/ok` a FIFO and open it for reading: while it is open,
 * a client's non-blocking open for writing succeeds ("a supervisor runs").
 *
 * @example
 * ```ts ignore
 * import { openOk } from "./takeover.ts";
 * import { AT_FDCWD, O, openAt } from "../sys/mod.ts";
 * const dirFd = openAt(AT_FDCWD, "/etc/sv/web", { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
 * const okFd = openOk(dirFd, "");
 * ```
 */
export function openOk(serviceFd: number, prefix: Prefix): number {
  const path = `${prefix}supervise/ok`;
  makeFifoAt(serviceFd, path, 0o600);
  return openAt(serviceFd, path, {
    flags: O.RDONLY | O.NONBLOCK | O.CLOEXEC,
    what: `read ${path}`,
  });
}
