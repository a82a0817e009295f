/**
 * A hosted svlogd: the logging of a log service, done inside the supervisor
 * that runs it, after our svlogd handed it over (handover.ts). The log
 * service itself stays a process, the log placeholder, which keeps the pid,
 * user and uptime `sv status` shows and passes HUP and ALRM on as one byte
 * each on the channel.
 *
 * What runit's svlogd does, done here with the same LogDir and LineEngine:
 * read standard input (one bounded read per readiness event of the one
 * reactor, so a flood cannot starve the supervision sharing the process),
 * write lines to the directories with the logger's uid and gid on the files
 * it creates, rotate by size, age (a timer), ALRM; HUP completes `current`,
 * rereads `config` and reopens `current` in the same directory (by its
 * descriptor: a hosted logger cannot reopen a path as its user could). At
 * end of input everything is written, the directories closed and the
 * placeholder ended, as svlogd exits. When the placeholder ends first (`sv
 * term|down|kill log`), what is in the pipe up to the end of the current
 * line is written, the directories closed, and an unfinished line is kept
 * for the next logger ({@link HostedLogger.finish}).
 *
 * A `config` with a processor (`!`) is never hosted: svlogd keeps such
 * directories itself, since processors must run with its credentials. One
 * that appears at a HUP ends the hosting (the placeholder is ended, runsv
 * starts `log/run` again, and that svlogd logs on its own).
 *
 * @module
 */

import {
  AT_FDCWD,
  closeFd,
  errorText,
  now,
  readFd,
  readLinkAt,
  type Received,
  setNonBlocking,
  SIG,
  SysError,
} from "../sys/mod.ts";
import { BoundedWriter, type Children, type Reactor } from "../reactor/mod.ts";
import type { LoadedProgram } from "../sys/memfd.ts";
import { loadLogPlaceholder } from "../sys/log_placeholder.ts";
import { LineEngine } from "./engine.ts";
import { LogDir, type Reporter } from "./logdir.ts";
import { decodeHandover } from "./handover.ts";

/** One read: as svlogd's, and the most one readiness event does. */
const READ_SIZE = 1 << 14;
/** At the placeholder's end, at most this many reads finish the current line. */
const FINISH_READS = 4;
/** runit's pause before a failed write is tried again (ms). */
const STALL_MS = 3000;

/**
 * Shared by every hosted logger of the process: reads are synchronous, and
 * each logger's output is written before its handler returns, so one read
 * buffer, and one write buffer per directory position, serve them all.
 */
const input = new Uint8Array(READ_SIZE);
const outputs: Array<{ bytes: Uint8Array<ArrayBuffer> }> = [];

function outputFor(index: number): { bytes: Uint8Array<ArrayBuffer> } {
  return outputs[index] ??= { bytes: new Uint8Array(READ_SIZE * 2) };
}

const encoder = new TextEncoder();

/** undefined: not loaded yet; null: cannot be loaded here. */
let placeholder: LoadedProgram | null | undefined;

/**
 * The memfd of this process's copy of the log placeholder, sent with every
 * yes: exec'd from one file, all its placeholders share one page of text.
 * Undefined when it cannot be loaded (svlogd then uses its own).
 *
 * @example
 * ```ts ignore
 * import { placeholderFd } from "./host.ts";
 * placeholderFd(); // e.g. 12
 * ```
 */
export function placeholderFd(): number | undefined {
  if (placeholder === undefined) placeholder = loadLogPlaceholder() ?? null;
  return placeholder?.fd;
}

/** Where a hosted logger runs and what it does when it ends by itself. */
export interface HostedLoggerOptions {
  /** The supervisor's reactor. */
  reactor: Reactor;
  /** The supervisor's reaper (unused while processors are never hosted). */
  children: Children;
  /**
   * The hosting ended by itself (end of input, a processor in `config`, no
   * usable directory left): end the placeholder, as svlogd would exit.
   */
  onEnd: () => void;
  /** An unfinished line the previous logger of this service left. */
  partial?: Uint8Array;
}

/**
 * The logging of one log service, hosted.
 *
 * @example
 * ```ts ignore
 * import { HostedLogger } from "./host.ts";
 * // In the supervisor, on the handover message from log/run's svlogd:
 * const logger = HostedLogger.accept(message, received, { reactor, children, onEnd: () => {} });
 * ```
 */
export class HostedLogger {
  #reactor: Reactor;
  #onEnd: () => void;
  #stdin: number;
  /**
   * The logger's standard error. It may be a pipe this process reads itself
   * (runsvdir's log tap), so it is written only when there is room.
   */
  #stderr: BoundedWriter;
  #dirs: LogDir[];
  #engine: LineEngine;
  #verbose: boolean;
  #watching = false;
  #paused = false;
  #ended = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stall: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    fds: { stdin: number; stderr: number },
    parts: { dirs: LogDir[]; engine: LineEngine; verbose: boolean },
    options: HostedLoggerOptions,
  ) {
    this.#reactor = options.reactor;
    this.#onEnd = options.onEnd;
    this.#stdin = fds.stdin;
    this.#stderr = new BoundedWriter(fds.stderr, {
      reactor: options.reactor,
      dropped: (lines) => `svlogd: warning: ${lines} lines dropped\n`,
    });
    this.#dirs = parts.dirs;
    this.#engine = parts.engine;
    this.#verbose = parts.verbose;
  }

  /**
   * Take over the logging a handover `message` offers (with `received`, its
   * descriptors and the sender's credentials): the logger, or a reason to
   * refuse (every received descriptor is then closed).
   */
  static accept(
    message: Uint8Array,
    received: Received,
    options: HostedLoggerOptions,
  ): HostedLogger | string {
    const fds = received.fds;
    const refuse = (reason: string) => {
      for (const fd of fds) closeFd(fd);
      return reason;
    };
    const sender = received.sender;
    if (!sender) return refuse("no credentials");
    const handover = decodeHandover(message);
    if (!handover) return refuse("not a handover message");
    if (fds.length !== 2 + handover.names.length * 3) return refuse("descriptors missing");
    const [stdin, stderr] = fds;
    const made: { logger?: HostedLogger } = {};
    const reporter: Reporter = {
      write: (text) => made.logger?.message(text),
      verbose: handover.verbose,
    };
    const dirs = handover.names.map((name, index) =>
      new LogDir(name, {
        reporter,
        children: options.children,
        lineMax: handover.lineMax,
        sharedBuffer: outputFor(index),
        deferWrites: true,
        owner: { uid: sender.uid, gid: sender.gid },
      })
    );
    const engine = new LineEngine(dirs, {
      stamp: handover.stamp,
      lineMax: handover.lineMax,
      replaceChar: handover.replaceChar,
      replaceSet: new Uint8Array(handover.replaceSet),
      stderr: (bytes) => made.logger?.echo(bytes),
    });
    try {
      setNonBlocking(stdin, true);
    } catch {
      return refuse("standard input unusable");
    }
    const logger = new HostedLogger({ stdin, stderr }, {
      dirs,
      engine,
      verbose: handover.verbose,
    }, options);
    made.logger = logger;
    dirs.forEach((dir, index) => {
      const at = 2 + index * 3;
      dir.adopt({ dirFd: fds[at], lockFd: fds[at + 1], currentFd: fds[at + 2] });
    });
    if (dirs.some((dir) => dir.config.processor)) {
      // Changed since svlogd read it: leave it all to svlogd, as it is.
      return refuse("a processor in config");
    }
    if (options.partial) {
      engine.setTime(now());
      engine.consume(options.partial, 0);
    }
    logger.#afterInput();
    logger.#watch();
    return logger;
  }

  /** Whether the hosting has ended (the directories are closed). */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * The absolute paths of the directories being written, as the kernel
   * names the descriptors (one removed meanwhile is left out).
   */
  directories(): string[] {
    const paths: string[] = [];
    for (const dir of this.#dirs) {
      const held = dir.descriptors();
      if (!held) continue;
      try {
        const path = readLinkAt(AT_FDCWD, `/proc/self/fd/${held.dirFd}`);
        if (path?.startsWith("/") && !path.endsWith(" (deleted)")) paths.push(path);
      } catch {
        // No /proc: nothing to record.
      }
    }
    return paths;
  }

  /** A message line (`svlogd: …`) to the logger's standard error. */
  message(text: string): void {
    this.#stderr.write(encoder.encode(text));
  }

  /** An `e` line to the logger's standard error. */
  echo(bytes: Uint8Array): void {
    this.#stderr.write(bytes.slice());
  }

  /** A signal the placeholder passed on: HUP reopens, ALRM rotates. */
  signal(signal: number): void {
    if (this.#ended) return;
    if (signal === SIG.ALRM) {
      this.#info("sigalarm received.");
      for (const dir of this.#dirs) dir.rotate();
      this.#armTimer();
    } else if (signal === SIG.HUP) {
      this.#info("sighangup received.");
      let ok = false;
      for (const dir of this.#dirs) {
        dir.flush();
        if (dir.reopen()) ok = true;
      }
      if (!ok) this.message("svlogd: fatal: no functional log directories.\n");
      if (!ok || this.#dirs.some((dir) => dir.config.processor)) {
        this.#end({ drain: false });
        return;
      }
      this.#armTimer();
    }
  }

  /** `sv pause`: stop reading (the writers block once the pipe is full). */
  pause(): void {
    this.#paused = true;
    this.#unwatch();
  }

  /** `sv cont`: read again. */
  resume(): void {
    this.#paused = false;
    this.#watch();
  }

  /**
   * The placeholder has ended: write what is in the pipe up to the end of
   * the current line, close the directories, release the descriptors.
   * Returns the raw bytes of a line still unfinished then, for the next
   * logger of this service (so that no line is lost or cut in two).
   */
  finish(): Uint8Array | undefined {
    if (this.#ended) return undefined;
    for (let reads = 0; reads < FINISH_READS && !this.#engine.lineComplete; reads++) {
      if (!this.#readOnce()) break;
    }
    const partial = this.#engine.takePartial();
    this.#close();
    return partial;
  }

  #watch(): void {
    if (this.#watching || this.#paused || this.#ended || this.#stall !== undefined) return;
    this.#reactor.watch(this.#stdin, () => this.#onReadable());
    this.#watching = true;
  }

  #unwatch(): void {
    if (!this.#watching) return;
    this.#reactor.unwatch(this.#stdin);
    this.#watching = false;
  }

  #onReadable(): void {
    if (this.#ended) return;
    if (!this.#readOnce()) return;
    this.#afterInput();
  }

  /** One read into the engine: false at end of input (then ended) or when nothing came. */
  #readOnce(): boolean {
    let n: number;
    try {
      n = readFd(this.#stdin, input);
    } catch (error) {
      if (!(error instanceof SysError)) throw error;
      this.message(`svlogd: warning: unable to read standard input: ${errorText(error.errno)}\n`);
      n = 0;
    }
    if (n < 0) return false;
    if (n === 0) {
      this.#end({ drain: true });
      return false;
    }
    this.#engine.setTime(now());
    // No processor is hosted, so the engine is never blocked.
    this.#engine.consume(input.subarray(0, n), 0);
    return true;
  }

  /** What svlogd's loop does between reads: flush, rotate what is due. */
  #afterInput(): void {
    for (const dir of this.#dirs) dir.flush();
    for (const dir of this.#dirs) if (dir.rotatePending && !dir.stalled) dir.rotate();
    this.#armTimer();
    if (this.#dirs.some((dir) => dir.stalled)) this.#stalled();
  }

  /**
   * A write failed (a full disk): where svlogd pauses three seconds and
   * tries again, stop reading (the writers block once the pipe is full,
   * nothing is lost) and try again in three seconds, without blocking.
   */
  #stalled(): void {
    this.#unwatch();
    if (this.#stall !== undefined) return;
    this.#stall = setTimeout(() => {
      this.#stall = undefined;
      if (this.#ended) return;
      this.#afterInput();
      this.#watch();
    }, STALL_MS);
  }

  /** A timer for the nearest `t` deadline. */
  #armTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    let next = Infinity;
    for (const dir of this.#dirs) {
      if (dir.isOpen && dir.config.timeMax > 0) next = Math.min(next, dir.rotateAt);
    }
    if (next === Infinity || this.#ended) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const time = Date.now();
      for (const dir of this.#dirs) {
        if (dir.isOpen && dir.config.timeMax > 0 && dir.rotateAt < time) dir.rotate();
      }
      this.#armTimer();
    }, Math.max(0, next - Date.now() + 1));
  }

  /** End by itself: at end of input write the last line as svlogd does; then end the placeholder. */
  #end(options: { drain: boolean }): void {
    if (this.#ended) return;
    if (options.drain) this.#engine.finish();
    this.#close();
    this.#onEnd();
  }

  #close(): void {
    this.#ended = true;
    this.#unwatch();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stall !== undefined) clearTimeout(this.#stall);
    this.#stall = undefined;
    for (const dir of this.#dirs) {
      dir.flush();
      while (dir.rotatePending && !dir.stalled) dir.rotate();
      dir.close();
    }
    this.#engine.close();
    try {
      // As it was: the next logger of this pipe may not expect O_NONBLOCK.
      setNonBlocking(this.#stdin, false);
    } catch {
      // Already unusable.
    }
    closeFd(this.#stdin);
    this.#stdin = -1;
    this.#stderr.close();
    closeFd(this.#stderr.fd);
  }

  #info(text: string): void {
    if (this.#verbose) this.message(`svlogd: info: ${text}\n`);
  }
}
