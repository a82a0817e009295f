/**
 * One supervised directory: `./run` (and `./finish`), and `log/run` when
 * `log/` exists, with runit's runsv(8) semantics and its `supervise/` files.
 *
 * `runsv DIR` runs one of these; runsvdir runs many in one process. Nothing
 * here blocks: where runsv waits (for a `control/X` script, or its one-second
 * pause), this code awaits, and each directory's events are handled one at a
 * time, in order, on its own queue, so no directory can delay another.
 *
 * Files are reached through a descriptor of the directory, so a service keeps
 * working when its directory is renamed, as runsv does by living in it.
 *
 * @module
 */

import {
  AT_FDCWD,
  closeFd,
  currentEnvironment,
  errnoOf,
  errorText,
  exitCode,
  type FileStat,
  messageOf,
  now,
  O,
  openAt,
  passCredentials,
  processGroupOf,
  processProgram,
  readFd,
  type Received,
  receiveWithFds,
  reopenFd,
  replaceFileAt,
  S,
  sendSignal,
  sendWithFds,
  SIG,
  signalPidFd,
  socketPair,
  statAt,
  SysError,
  type Timestamp,
} from "../sys/mod.ts";
import type { Children, Reactor } from "../reactor/mod.ts";
import { encodeStatus, formatStat, type RunState, type Want } from "./status.ts";
import { type Holding, SupervisorFatal, takeOver, type UnitHold } from "./takeover.ts";
import { HostedLogger, placeholderFd } from "../svlog/host.ts";
import { findAdoptable } from "./adopt.ts";
import { LOGHOST_ENV, LOGHOST_FD } from "../svlog/handover.ts";
import { downSignal, finishTimeout } from "./s6_files.ts";
import { forgetLogDirs, recordLogDirs } from "./logdirs.ts";
import { NOTIFY_SOCKET_ENV, UnitReadiness } from "./readiness.ts";

export { SupervisorFatal } from "./takeover.ts";

/** Where a supervisor runs and how it reports. */
export interface SupervisorOptions {
  /** The reactor that watches the control FIFOs. */
  reactor: Reactor;
  /** The reaper that starts and collects children. */
  children: Children;
  /** Give `./run`, `./finish` and `log/run` each a new session (runsvdir -P). */
  newSession?: boolean;
  /** Where `runsv NAME: warning: …` lines go; stderr by default. */
  report?: (line: string) => void;
  /**
   * An unexpected exception (a bug, not a failed system call) in this
   * directory's queue: the supervisor stops its processes (TERM, CONT),
   * releases the directory and calls this, so that its owner can start a new
   * one (runsvdir, with a backoff). Without it, the error is reported as a
   * warning and supervision goes on.
   */
  onFailure?: (error: unknown) => void;
  /**
   * Offer `log/run` to host its logging (default true): our svlogd then
   * hands it over to this process (see src/svlog/host.ts).
   */
  hostLogs?: boolean;
}

interface Unit {
  isLog: boolean;
  /** Path prefix of this unit's supervise files, relative to the service dir. */
  prefix: "" | "log/";
  dirFd: number;
  pid: number;
  state: RunState;
  want: Want;
  paused: boolean;
  gotTerm: boolean;
  start: Timestamp;
  wstat: number;
  writtenPid: number | undefined;
  notBefore: number;
  /** `u` or `o` arrived during the pause: start once it is over. */
  startPending: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** While the status files cannot be written: the retry timer, and the failure last reported. */
  statusRetry: ReturnType<typeof setTimeout> | undefined;
  statusFailure: string | undefined;
  lockFd: number;
  controlFd: number;
  okFd: number;
  /** Our end of the log unit's host channel, -1 when none. */
  channel: number;
  /** The log unit's logging, when its svlogd handed it over. */
  host: HostedLogger | undefined;
  /** A pidfd watching an adopted process (not our child), -1 when none. */
  pidFd: number;
  /** The last exit was an adopted process's: its wait status is unknown. */
  exitUnknown: boolean;
  /** Readiness notification (see readiness.ts), once the unit's directory is held. */
  readiness: UnitReadiness | undefined;
}

/**
 * `./finish`'s arguments after an adopted `./run` exits: its wait status
 * cannot be known (it is not our child). runsv's first argument is -1 when
 * `./run` did not exit normally, and the second the signal, 0 for none: so
 * "-1 0", an exit that was not known to be normal, by no known signal.
 */
const UNKNOWN_EXIT_ARGS: readonly string[] = ["-1", "0"];

/** Commands that only forward a signal to a running service. */
const SIGNAL_COMMANDS: Record<string, number> = {
  a: SIG.ALRM,
  h: SIG.HUP,
  i: SIG.INT,
  q: SIG.QUIT,
  "1": SIG.USR1,
  "2": SIG.USR2,
};

/** Every byte runsv acts on; anything else written to `control` is ignored. */
const COMMAND_BYTES = new Set([..."udoxtkpchaiq12"].map((c) => c.charCodeAt(0)));
/** How often status files that could not be written are tried again. */
const STATUS_RETRY_MS = 500;
/** Control bytes read at once; the FIFO is not read again until they are acted on. */
const CONTROL_CHUNK = 4096;

/**
 * The commands in `bytes` as runsv would effectively act on them: in order,
 * bytes that are not commands dropped, and a command that repeats the one
 * before it (non-commands between them aside) dropped too. Acting twice in a
 * row changes nothing a second time: `u`, `d`, `o`, `x`, `p`, `c`, `k` set
 * the state they already set, and a signal sent again while the first is
 * still pending is merged by the kernel. Order is kept, so `du` and `ud`
 * still end differently.
 *
 * @example
 * ```ts
 * import { coalesceCommands } from "./supervisor.ts";
 * coalesceCommands(new TextEncoder().encode("uu\nzzduud")); // ["u", "d", "u", "d"]
 * ```
 */
export function coalesceCommands(bytes: Uint8Array): string[] {
  const commands: string[] = [];
  let last = -1;
  for (const byte of bytes) {
    if (byte === last || !COMMAND_BYTES.has(byte)) continue;
    last = byte;
    commands.push(String.fromCharCode(byte));
  }
  return commands;
}

const encoder = new TextEncoder();
const DIRECTORY = O.RDONLY | O.DIRECTORY | O.CLOEXEC;

function newUnit(isLog: boolean): Unit {
  return {
    isLog,
    prefix: isLog ? "log/" : "",
    dirFd: -1,
    pid: 0,
    state: "down",
    want: "up",
    paused: false,
    gotTerm: false,
    start: now(),
    wstat: 0,
    writtenPid: undefined,
    notBefore: 0,
    startPending: false,
    timer: undefined,
    statusRetry: undefined,
    statusFailure: undefined,
    lockFd: -1,
    controlFd: -1,
    okFd: -1,
    channel: -1,
    host: undefined,
    pidFd: -1,
    exitUnknown: false,
    readiness: undefined,
  };
}

/** One for every channel of the process: each message is handled before the next read. */
const channelBuffer = new Uint8Array(4096);

/**
 * The environment without a host channel's name (a service must not think it
 * has one), with `notify` (`NOTIFY_SOCKET=…`) in place of an inherited one.
 */
function environmentFor(channel: boolean, notify?: string): string[] | undefined {
  const inherited = Deno.env.get(LOGHOST_ENV) !== undefined;
  if (!channel && !inherited && notify === undefined) return undefined;
  const replaced = notify === undefined ? undefined : `${NOTIFY_SOCKET_ENV}=`;
  const env = currentEnvironment().filter((entry) =>
    !entry.startsWith(`${LOGHOST_ENV}=`) && !(replaced && entry.startsWith(replaced))
  );
  if (channel) env.push(`${LOGHOST_ENV}=${LOGHOST_FD}`);
  if (notify !== undefined) env.push(notify);
  return env;
}

/**
 * Supervises one service directory.
 *
 * @example
 * ```ts ignore
 * import { Supervisor } from "./supervisor.ts";
 * import { Children, Reactor } from "../reactor/mod.ts";
 * const reactor = new Reactor();
 * const supervisor = new Supervisor("/etc/sv/web", { reactor, children: new Children() });
 * supervisor.open(); // throws SupervisorFatal like runsv's fatal errors
 * reactor.run();
 * await supervisor.exited; // after `sv exit /etc/sv/web`
 * ```
 */
export class Supervisor {
  /** The directory as named by the caller; used in messages. */
  readonly name: string;
  /** Resolves once the service and its log are down after `x` (runsv exits 0). */
  readonly exited: Promise<void>;
  #resolveExited: () => void;
  #options: SupervisorOptions;
  #serviceFd = -1;
  #main = newUnit(false);
  #log: Unit | undefined;
  #logPipe: [number, number] | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  /** An unfinished line a hosted logger left, for the next one. */
  #partial: Uint8Array | undefined;
  /** KILLs a `./finish` that outlives `timeout-finish`. */
  #finishTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(name: string, options: SupervisorOptions) {
    this.name = name;
    this.#options = options;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.exited = promise;
    this.#resolveExited = resolve;
  }

  /**
   * KILL what runs now (`./run` or `./finish`, and `log/run`), with its
   * process group under runsvdir -P: for a supervisor whose services did
   * not stop in time. Adopted processes are reached through their pidfds.
   */
  kill(): void {
    for (const unit of [this.#main, this.#log]) {
      if (unit && unit.pid > 0) this.#killUnit(unit);
    }
  }

  /**
   * Take over the directory, as runsv's start-up does: the lock, the FIFOs,
   * the first status. Throws {@link SupervisorFatal} with runsv's message.
   */
  open(options: { dirFd?: number } = {}): void {
    try {
      this.#serviceFd = options.dirFd ?? openAt(AT_FDCWD, this.name, {
        flags: DIRECTORY,
        what: "change to directory",
      });
      const holding = takeOver(this.#serviceFd, {
        name: this.name,
        warn: (text) => this.#warn(text),
        // Descriptors are adopted only after success: on failure take-over closes them.
        // Adoption is decided here: the lock is ours, the old status not yet replaced.
        firstStatus: (hold) => this.#updateStatus(this.#inspect(this.#unitFor(hold), hold)),
      });
      this.#adopt(holding);
      for (const unit of this.#units()) this.#watchControl(unit);
    } catch (error) {
      this.close();
      if (error instanceof SupervisorFatal) throw error;
      if (error instanceof SysError) {
        throw new SupervisorFatal(`runsv ${this.name}: fatal: ${error.message}`);
      }
      throw error;
    }
    this.#schedule(() => {});
  }

  /** Take over the units' descriptors once the whole take-over has succeeded. */
  #adopt(holding: Holding): void {
    for (const hold of [holding.main, holding.log]) {
      if (!hold) continue;
      const unit = this.#unitFor(hold);
      unit.dirFd = hold.dirFd;
      unit.lockFd = hold.lockFd;
      unit.controlFd = hold.controlFd;
      unit.okFd = hold.okFd;
    }
    this.#logPipe = holding.logPipe;
    if (this.#main.pidFd >= 0 || (this.#log?.pidFd ?? -1) >= 0) this.#reattachLogPipe();
    for (const unit of this.#units()) {
      if (unit.pidFd >= 0) this.#watchAdopted(unit);
      this.#attachReadiness(unit);
    }
  }

  /** Readiness for a held unit: an adopted `./run` keeps its `supervise/ready`, else it goes. */
  #attachReadiness(unit: Unit): void {
    unit.readiness = new UnitReadiness(this.#serviceFd, {
      unitFd: unit.dirFd,
      prefix: unit.prefix,
      reactor: this.#options.reactor,
      warn: (message) => this.#warn(message),
    });
    if (unit.pidFd >= 0 && unit.state === "run") unit.readiness.adopted(unit.pid);
    else unit.readiness.reset();
  }

  /**
   * A process a crashed supervisor left running in this unit's directory
   * becomes the unit's (see adopt.ts): its pid, state, time (the uptime
   * carries on), want and flags are kept.
   */
  #inspect(unit: Unit, hold: UnitHold): Unit {
    const found = findAdoptable(this.#serviceFd, { prefix: hold.prefix, unitFd: hold.dirFd });
    if (!found) return unit;
    const { status } = found;
    unit.pidFd = found.pidFd;
    unit.pid = status.pid;
    unit.state = status.state;
    unit.start = { sec: status.sec, nsec: status.nsec };
    unit.paused = status.paused;
    unit.gotTerm = status.gotTerm;
    unit.want = status.want;
    return unit;
  }

  /**
   * An adopted service still writes to the old log pipe, an adopted logger
   * still reads it: use that pipe, not the new one, so lines keep flowing
   * and a restarted ./run or log/run joins it. Both ends are opened again
   * through /proc (the logger's stdin first, what the lines are read from).
   * A hosted logger's placeholder lost its host with the crash: it is
   * stopped, so that log/run starts again on this pipe and hands over here.
   */
  #reattachLogPipe(): void {
    const log = this.#log;
    if (!log || !this.#logPipe) return;
    const [pid, fd] = log.pidFd >= 0 ? [log.pid, 0] : [this.#main.pid, 1];
    const path = `/proc/${pid}/fd/${fd}`;
    let ends: [number, number];
    try {
      const stat = statAt(AT_FDCWD, path);
      if (!stat || (stat.mode & S.IFMT) !== S.IFIFO) {
        this.#warn(`unable to reattach the log pipe: ${path} is not a pipe`);
        return;
      }
      const readEnd = reopenFd(pid, fd, O.RDONLY);
      try {
        ends = [readEnd, reopenFd(pid, fd, O.WRONLY)];
      } catch (error) {
        closeFd(readEnd);
        throw error;
      }
    } catch (error) {
      this.#warn(`unable to reattach the log pipe: ${messageOf(error)}`);
      return;
    }
    this.#closeLogPipe();
    this.#logPipe = ends;
    if (log.pidFd >= 0 && processProgram(log.pid)?.includes("runit-log-placeholder")) {
      this.#signal(log, SIG.TERM);
    }
  }

  /** Notice an adopted process's exit through its pidfd, as fast as a child's. */
  #watchAdopted(unit: Unit): void {
    // The pidfd stays open until the exit is handled: signals meanwhile go through it.
    this.#options.reactor.watch(unit.pidFd, () => {
      this.#options.reactor.unwatch(unit.pidFd);
      this.#schedule(() => this.#onExit(unit, undefined));
    });
  }

  #unwatchAdopted(unit: Unit): void {
    unit.pidFd = this.#release(unit.pidFd);
  }

  /** Stop watching `fd` and close it (nothing for -1); returns -1, for the field that held it. */
  #release(fd: number): number {
    if (fd < 0) return -1;
    this.#options.reactor.unwatch(fd);
    closeFd(fd);
    return -1;
  }

  /** The unit a hold belongs to (the log's is made on first sight), wanted down when `down` exists. */
  #unitFor(hold: UnitHold): Unit {
    const unit = hold.prefix === "" ? this.#main : (this.#log ??= newUnit(true));
    if (hold.down) unit.want = "down";
    return unit;
  }

  *#units(): Generator<Unit> {
    yield this.#main;
    if (this.#log) yield this.#log;
  }

  /** Act as on `x` (runsv's SIGTERM). */
  exit(): void {
    this.#schedule(() => this.#control(this.#main, "x"));
  }

  /** Release every descriptor; children are left as they are. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#finishTimer);
    for (const unit of this.#units()) {
      this.#endHosting(unit);
      this.#unwatchAdopted(unit);
      if (unit.timer !== undefined) clearTimeout(unit.timer);
      clearTimeout(unit.statusRetry);
      unit.readiness?.close();
      unit.controlFd = this.#release(unit.controlFd);
      for (const fd of [unit.okFd, unit.lockFd]) closeFd(fd);
      if (unit.isLog) closeFd(unit.dirFd);
    }
    this.#closeLogPipe();
    closeFd(this.#serviceFd);
  }

  #closeLogPipe(): void {
    if (!this.#logPipe) return;
    closeFd(this.#logPipe[0]);
    closeFd(this.#logPipe[1]);
    this.#logPipe = undefined;
  }

  #warn(message: string): void {
    const line = `runsv ${this.name}: warning: ${message}`;
    (this.#options.report ?? ((text: string) => console.error(text)))(line);
  }

  #warnError(error: unknown): void {
    this.#warn(messageOf(error));
  }

  /**
   * Run `step`, then runsv's loop body (start what should run, check for
   * exit), after everything queued before it.
   */
  #schedule(step: () => void | Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#closed) return;
      // In a burst of events (many services exiting at once) the SIGCHLD
      // listener waits for the burst to end: collect exited children here.
      this.#options.children.reap();
      try {
        await step();
        await this.#reconcile();
      } catch (error) {
        if (error instanceof SysError || !this.#options.onFailure) {
          this.#warnError(error);
        } else {
          this.#fail(error);
        }
      }
    });
  }

  /** Give up after an unexpected exception: nothing is left running unsupervised. */
  #fail(error: unknown): void {
    if (this.#closed) return;
    for (const unit of this.#units()) {
      if (unit.pid) this.#signal(unit, this.#downSignal(unit));
      this.#signal(unit, SIG.CONT);
    }
    this.close();
    this.#options.onFailure?.(error);
  }

  #watchControl(unit: Unit): void {
    this.#options.reactor.watch(unit.controlFd, () => this.#onControlReadable(unit));
  }

  /**
   * Read one bounded chunk of commands, and stop reading the FIFO until they
   * have been acted on: a flood then waits in its writer's write(), as with
   * runsv, and memory stays flat whatever is written.
   */
  #onControlReadable(unit: Unit): void {
    const buffer = new Uint8Array(CONTROL_CHUNK);
    const n = readFd(unit.controlFd, buffer);
    if (n <= 0) return;
    const commands = coalesceCommands(buffer.subarray(0, n));
    // Nothing to act on: the reactor calls again while more is waiting.
    if (commands.length === 0) return;
    this.#options.reactor.unwatch(unit.controlFd);
    this.#schedule(async () => {
      try {
        for (let index = 0; index < commands.length; index++) {
          // runsv's loop body between two commands, as when each came alone.
          if (index > 0) await this.#reconcile();
          if (this.#closed) return;
          try {
            await this.#control(unit, commands[index]);
          } catch (error) {
            this.#warnError(error);
          }
        }
      } finally {
        if (!this.#closed) this.#watchControl(unit);
      }
    });
  }

  /** runsv's loop: start the log, then the service, then consider exiting. */
  async #reconcile(): Promise<void> {
    const log = this.#log;
    if (log && !log.pid && (log.want === "up" || log.startPending) && this.#pauseOver(log)) {
      await this.#startUnit(log);
    }
    const main = this.#main;
    const wanted = main.want === "up" || main.state === "finish" || main.startPending;
    if (!main.pid && wanted && this.#pauseOver(main)) await this.#startUnit(main);
    if (main.want === "exit" && main.state === "down") {
      if (!log || !log.pid) {
        this.close();
        this.#resolveExited();
        return;
      }
      if (log.want !== "exit") {
        log.want = "exit";
        this.#updateStatus(log);
        // The logger sees end of input once the service's side is gone too.
        this.#closeLogPipe();
      }
    }
  }

  /** False while the one-second pause after a quick exit lasts (and arms a wake-up). */
  #pauseOver(unit: Unit): boolean {
    const wait = unit.notBefore - Date.now();
    if (wait <= 0) return true;
    if (unit.timer === undefined) {
      unit.timer = setTimeout(() => {
        unit.timer = undefined;
        this.#schedule(() => {});
      }, wait);
    }
    return false;
  }

  async #startUnit(unit: Unit): Promise<void> {
    unit.startPending = false;
    let argv: string[];
    if (unit.state === "finish") {
      const code = exitCode(unit.wstat);
      argv = unit.exitUnknown
        ? ["./finish", ...UNKNOWN_EXIT_ARGS]
        : ["./finish", String(code), String(unit.wstat & 0xff)];
    } else {
      argv = ["./run"];
      await this.#custom(unit, "u");
    }
    if (unit.pid !== 0) await this.#stopService(unit);
    const dup: Array<[number, number]> = [];
    if (this.#logPipe) dup.push(unit.isLog ? [0, this.#logPipe[0]] : [1, this.#logPipe[1]]);
    if (unit.state !== "finish") {
      unit.start = now();
      unit.state = "run";
    }
    unit.paused = false;
    unit.gotTerm = false;
    const channel = unit.isLog && this.#options.hostLogs !== false
      ? this.#hostChannel()
      : undefined;
    if (channel) dup.push([LOGHOST_FD, channel[1]]);
    if (unit.isLog) this.#forgetLogDirs();
    // ./run (not ./finish) gets what its readiness notification needs.
    const ready = argv[0] === "./run"
      ? unit.readiness?.beforeRun([0, 1, 2, ...dup.map(([target]) => target)])
      : undefined;
    if (ready?.dup) dup.push(ready.dup);
    try {
      unit.pid = this.#options.children.start(argv, {
        cwdFd: unit.dirFd,
        dup,
        env: environmentFor(channel !== undefined, ready?.env),
        newSession: this.#options.newSession,
      }, (status) => this.#schedule(() => this.#onExit(unit, status)));
      if (ready) unit.readiness?.started(unit.pid);
      if (channel) {
        closeFd(channel[1]);
        unit.channel = channel[0];
        this.#options.reactor.watch(unit.channel, () => this.#onChannel(unit));
      }
      if (unit.state === "finish") this.#limitFinish(unit);
    } catch (error) {
      if (ready) unit.readiness?.started(0);
      if (channel) { for (const fd of channel) closeFd(fd); }
      // runsv's child would print this and exit 111: report it, then treat
      // it as that exit (finish gets "111 0", then the one-second pause).
      const what = unit.isLog ? `log/${argv[0]}` : argv[0];
      this.#warn(`unable to start ${what}: ${errorText(errnoOf(error))}`);
      unit.pid = 0;
      this.#updateStatus(unit);
      this.#onExit(unit, 111 << 8);
      // No SIGCHLD will come: go round runsv's loop again (./finish, or the pause).
      this.#schedule(() => {});
      return;
    }
    this.#updateStatus(unit);
  }

  /** A host channel for a log unit: [ours, the child's]; undefined when none can be made. */
  #hostChannel(): [number, number] | undefined {
    try {
      const pair = socketPair();
      passCredentials(pair[0]);
      return pair;
    } catch (error) {
      this.#warn(`unable to offer log hosting: ${errorText(errnoOf(error))}`);
      return undefined;
    }
  }

  /** The log unit's channel: first the handover, then the signals its placeholder passes on. */
  #onChannel(unit: Unit): void {
    const buffer = channelBuffer;
    for (;;) {
      if (unit.channel < 0) return;
      let got: Received | undefined;
      try {
        got = receiveWithFds(unit.channel, buffer);
      } catch {
        got = { length: 0, fds: [] };
      }
      if (!got) return;
      if (got.length === 0 && got.fds.length === 0) {
        // The logger (or its placeholder) is gone, or logs on its own.
        this.#closeChannel(unit);
        return;
      }
      if (unit.host) {
        for (const fd of got.fds) closeFd(fd);
        for (const byte of buffer.subarray(0, got.length)) unit.host?.signal(byte);
        continue;
      }
      this.#acceptHandover(unit, buffer.subarray(0, got.length), got);
    }
  }

  #acceptHandover(unit: Unit, message: Uint8Array, got: Received): void {
    // Only the log unit's own process (svlogd exec'd by log/run) may hand over.
    let result: HostedLogger | string = "not the log service's process";
    if (got.sender?.pid === unit.pid && unit.pid > 0) {
      result = HostedLogger.accept(message, got, {
        reactor: this.#options.reactor,
        children: this.#options.children,
        onEnd: () => this.#signal(unit, SIG.TERM),
        partial: this.#partial,
      });
    } else {
      for (const fd of got.fds) closeFd(fd);
    }
    const hosted = typeof result === "string" ? undefined : result;
    try {
      const program = hosted ? placeholderFd() : undefined;
      sendWithFds(
        unit.channel,
        encoder.encode(hosted ? "y" : "n"),
        program === undefined ? [] : [program],
      );
    } catch {
      // svlogd gave up waiting: it logs on its own.
      hosted?.finish();
      return;
    }
    if (!hosted) return;
    this.#partial = undefined;
    unit.host = hosted;
    if (unit.paused) hosted.pause();
    try {
      recordLogDirs(this.#serviceFd, hosted.directories());
    } catch (error) {
      this.#warnError(error);
    }
  }

  #closeChannel(unit: Unit): void {
    unit.channel = this.#release(unit.channel);
  }

  /** The log unit's process is gone: finish its hosted logging, keep an unfinished line. */
  #endHosting(unit: Unit): void {
    if (unit.host) {
      const partial = unit.host.finish();
      if (partial) this.#partial = partial;
      unit.host = undefined;
    }
    this.#closeChannel(unit);
  }

  /** The unit's process exited with wait status `status` (undefined: adopted, unknown). */
  #onExit(unit: Unit, status: number | undefined): void {
    if (!unit.isLog) clearTimeout(this.#finishTimer);
    this.#unwatchAdopted(unit);
    unit.readiness?.ended();
    if (unit.isLog) this.#endHosting(unit);
    unit.pid = 0;
    unit.wstat = status ?? 0;
    unit.exitUnknown = status === undefined;
    unit.gotTerm = false;
    if (!unit.isLog && unit.state !== "finish" && this.#finishExists()) {
      unit.state = "finish";
      this.#updateStatus(unit);
      return;
    }
    unit.state = "down";
    const deadline = unit.start.sec * 1000 + unit.start.nsec / 1e6 + 1000;
    unit.start = now();
    this.#updateStatus(unit);
    if (Date.now() < deadline) unit.notBefore = Date.now() + 1000;
  }

  #finishExists(): boolean {
    try {
      closeFd(openAt(this.#serviceFd, "finish", { flags: O.RDONLY | O.NONBLOCK | O.CLOEXEC }));
      return true;
    } catch {
      return false;
    }
  }

  /** Run `control/C` if it is executable: true when it exited 0. */
  async #custom(unit: Unit, command: string): Promise<boolean> {
    if (unit.isLog) return false;
    const path = `control/${command}`;
    let stat: FileStat | undefined;
    try {
      stat = statAt(this.#serviceFd, path);
    } catch (error) {
      this.#warn(`unable to stat ${path}: ${errorText(errnoOf(error))}`);
      return false;
    }
    if (!stat || !(stat.mode & S.IXUSR)) return false;
    try {
      const status = await this.#options.children.run([path, unit.pid ? String(unit.pid) : ""], {
        cwdFd: this.#serviceFd,
        dup: this.#logPipe ? [[1, this.#logPipe[1]]] : [],
      });
      return exitCode(status) === 0;
    } catch (error) {
      this.#warn(`unable to run ${path}: ${errorText(errnoOf(error))}`);
      return false;
    }
  }

  #signal(unit: Unit, signal: number): void {
    // An adopted process is reaped by another: its pid could be reused, its pidfd not.
    if (unit.pidFd >= 0) signalPidFd(unit.pidFd, signal);
    else if (unit.pid > 0) sendSignal(unit.pid, signal);
  }

  async #stopService(unit: Unit): Promise<void> {
    if (unit.pid && !(await this.#custom(unit, "t"))) {
      this.#signal(unit, this.#downSignal(unit));
      unit.gotTerm = true;
      this.#updateStatus(unit);
    }
    if (unit.want === "down") {
      this.#signal(unit, SIG.CONT);
      await this.#custom(unit, "d");
      return;
    }
    if (unit.want === "exit") {
      this.#signal(unit, SIG.CONT);
      await this.#custom(unit, "x");
    }
  }

  /** The unit's `down-signal` (s6), read now so that an edit needs no restart; else TERM. */
  #downSignal(unit: Unit): number {
    return downSignal(unit.dirFd, { warn: (text) => this.#warn(text), prefix: unit.prefix });
  }

  /**
   * With `timeout-finish` (s6), KILL a `./finish` that runs longer; its exit
   * is then handled as any end of `./finish`. runit waits for it forever.
   * Under runsvdir -P its process group goes too, as at runsvdir's shutdown.
   */
  #limitFinish(unit: Unit): void {
    clearTimeout(this.#finishTimer);
    const ms = finishTimeout(this.#serviceFd, { warn: (text) => this.#warn(text) });
    if (ms === 0) return;
    const pid = unit.pid;
    this.#finishTimer = setTimeout(() => {
      this.#finishTimer = undefined;
      if (this.#closed || unit.pid !== pid || unit.state !== "finish") return;
      this.#warn(`./finish still running after ${ms} ms (timeout-finish): sending KILL`);
      this.#killUnit(unit);
    }, ms);
  }

  /** KILL the unit's process, and under runsvdir -P its own process group. */
  #killUnit(unit: Unit): void {
    const group = this.#options.newSession ? processGroupOf(unit.pid) : -1;
    if (group > 1 && group !== processGroupOf(0)) sendSignal(-group, SIG.KILL);
    this.#signal(unit, SIG.KILL);
  }

  /** A new log/run: the directories recorded for the last one may no longer be its. */
  #forgetLogDirs(): void {
    try {
      forgetLogDirs(this.#serviceFd);
    } catch (error) {
      this.#warnError(error);
    }
  }

  async #signalUnlessCustom(unit: Unit, command: string, signal: number): Promise<void> {
    if (unit.state === "run" && !(await this.#custom(unit, command))) this.#signal(unit, signal);
  }

  /** One control character, exactly as runsv's ctrl(). */
  async #control(unit: Unit, command: string): Promise<void> {
    switch (command) {
      case "d":
        unit.want = "down";
        unit.startPending = false;
        this.#updateStatus(unit);
        if (unit.state === "run") await this.#stopService(unit);
        break;
      case "u":
        unit.want = "up";
        this.#updateStatus(unit);
        if (unit.state === "down") await this.#startWhenDue(unit);
        break;
      case "x":
        if (unit.isLog) break;
        unit.want = "exit";
        unit.startPending = false;
        this.#updateStatus(unit);
        if (unit.state === "run") await this.#stopService(unit);
        break;
      case "t":
        if (unit.state === "run") await this.#stopService(unit);
        break;
      case "k":
        await this.#signalUnlessCustom(unit, "k", SIG.KILL);
        unit.state = "down";
        break;
      case "p":
        await this.#signalUnlessCustom(unit, "p", SIG.STOP);
        unit.host?.pause();
        unit.paused = true;
        this.#updateStatus(unit);
        break;
      case "c":
        await this.#signalUnlessCustom(unit, "c", SIG.CONT);
        unit.host?.resume();
        unit.paused = false;
        this.#updateStatus(unit);
        break;
      case "o":
        unit.want = "down";
        this.#updateStatus(unit);
        if (unit.state === "down") await this.#startWhenDue(unit);
        break;
      default:
        if (command in SIGNAL_COMMANDS) {
          await this.#signalUnlessCustom(unit, command, SIGNAL_COMMANDS[command]);
        }
        // Anything else written to the FIFO is ignored, as runsv does.
    }
  }

  /**
   * `u` and `o` start a down service at once, like runsv, unless its pid is
   * still set (after `k`, until reaped) or the one-second pause still runs.
   */
  async #startWhenDue(unit: Unit): Promise<void> {
    if (unit.pid !== 0) return;
    if (this.#pauseOver(unit)) await this.#startUnit(unit);
    else unit.startPending = true;
  }

  /**
   * Write status, then pid (when changed) and stat, each atomically. status
   * goes first because it is what a supervisor started after a crash adopts
   * by: whoever sees the new pid or stat (sv, a script that then kills us)
   * finds status already naming the process. A failure (a full or failing
   * file system) is reported once, and the files are written again every
   * {@link STATUS_RETRY_MS} until it succeeds, so that `sv` never sees a
   * stale state for longer (runsv waits for the next event).
   */
  #updateStatus(unit: Unit): void {
    const dir = this.#serviceFd;
    const base = `${unit.prefix}supervise/`;
    const attempt = (write: () => void) => {
      try {
        write();
        return undefined;
      } catch (error) {
        return messageOf(error);
      }
    };
    const status = attempt(() =>
      replaceFileAt(
        dir,
        `${base}status`,
        encodeStatus({
          sec: unit.start.sec,
          nsec: unit.start.nsec,
          pid: unit.pid,
          paused: unit.paused,
          want: unit.want === "up" ? "up" : "down",
          gotTerm: unit.gotTerm,
          state: unit.state,
        }),
      )
    );
    const pid = unit.writtenPid === unit.pid ? undefined : attempt(() => {
      replaceFileAt(dir, `${base}pid`, encoder.encode(unit.pid ? `${unit.pid}\n` : ""));
      unit.writtenPid = unit.pid;
    });
    const stat = attempt(() =>
      replaceFileAt(dir, `${base}stat`, encoder.encode(`${formatStat(unit)}\n`))
    );
    // status's failure is what runsv reports; then stat's, then pid's.
    this.#statusOutcome(unit, status ?? stat ?? pid);
  }

  /** Note how a status update went: report a new failure once, retry until it succeeds. */
  #statusOutcome(unit: Unit, failure: string | undefined): void {
    if (failure === undefined) {
      clearTimeout(unit.statusRetry);
      unit.statusRetry = undefined;
      unit.statusFailure = undefined;
      return;
    }
    if (unit.statusFailure !== failure) this.#warn(failure);
    unit.statusFailure = failure;
    if (unit.statusRetry !== undefined) return;
    unit.statusRetry = setTimeout(() => {
      unit.statusRetry = undefined;
      if (!this.#closed) this.#updateStatus(unit);
    }, STATUS_RETRY_MS);
  }
}
