/**
 * svlogd's main loop: read standard input in large chunks, hand them to the
 * line engine, and between chunks (where runit's buffer_pread does it) flush
 * every log, act on ALRM, HUP and TERM, rotate logs whose `t` age is up, and
 * wait for input, a signal or the next age deadline.
 *
 * Everything read is written before the next read, so a logger killed with
 * KILL loses at most the one 16 KiB read it was working on (for well under
 * a millisecond); unread data stays in the pipe for its successor.
 *
 * @module
 */

import { Children, Reactor } from "../reactor/mod.ts";
import {
  catchSignal,
  closeFd,
  errorText,
  now,
  readFd,
  setNonBlocking,
  SysError,
  uncatchSignal,
} from "../sys/mod.ts";
import { LineEngine } from "./engine.ts";
import { LogDir, type Reporter } from "./logdir.ts";
import { handOver, hostChannel } from "./handover.ts";
import type { StampKind } from "./timestamp.ts";

/** What the command line asked for. */
export interface DaemonOptions {
  /** `-t` count. */
  stamp: StampKind;
  /** `-l`. */
  lineMax: number;
  /** `-b` (checked against `-l` only: every read asks for 16 KiB). */
  bufferSize: number;
  /** `-r` byte, or 0. */
  replaceChar: number;
  /** `-R` bytes. */
  replaceSet: Uint8Array;
  /** `-v`. */
  verbose: boolean;
  /** Where messages go. */
  write: (text: string) => void;
  /** Where `e` lines go. */
  stderr: (bytes: Uint8Array) => void;
  /**
   * svlogd's own argv: given, the logging may be handed over to a
   * supervisor that offers to host it (handover.ts), and this process then
   * becomes the log placeholder with this argv.
   */
  argv?: readonly string[];
}

/** runit wakes at least this often (seconds) to check rotation ages. */
const MAX_SLEEP_MS = 2744 * 1000;
/** Under a steady stream, let signal handlers run at least this often. */
const YIELD_MS = 20;
/**
 * One read: also the most a KILL can lose (read, not yet written). 16 KiB
 * keeps that small; 64 KiB (a whole default pipe) is only ~15% faster.
 */
const READ_SIZE = 1 << 14;

function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Run svlogd on `names` until end of input or TERM; resolves with the exit
 * code (0, or 111 when no log directory can be used).
 *
 * @example
 * ```ts ignore
 * import { runDaemon } from "./daemon.ts";
 * const code = await runDaemon(["./log"], {
 *   stamp: 2, lineMax: 1000, bufferSize: 1024, replaceChar: 0,
 *   replaceSet: new Uint8Array(0), verbose: false,
 *   write: (t) => Deno.stderr.writeSync(new TextEncoder().encode(t)),
 *   stderr: (b) => Deno.stderr.writeSync(b),
 * });
 * ```
 */
export async function runDaemon(names: readonly string[], options: DaemonOptions): Promise<number> {
  const reporter: Reporter = { write: options.write, verbose: options.verbose };
  const children = new Children();
  const dirs = names.map((name) =>
    new LogDir(name, { reporter, children, lineMax: options.lineMax, bufferSize: 1 << 17 })
  );
  const info = (text: string) => {
    if (options.verbose) options.write(`svlogd: info: ${text}\n`);
  };
  const reopen = (): boolean => {
    let ok = false;
    for (const dir of dirs) {
      dir.close();
      if (dir.open()) ok = true;
    }
    if (!ok) options.write("svlogd: fatal: no functional log directories.\n");
    return ok;
  };
  const channel = options.argv ? hostChannel() : undefined;
  if (!reopen()) {
    closeFd(channel ?? -1);
    children.close();
    return 111;
  }
  if (channel !== undefined) {
    // Returns only when the logging stays in this process.
    handOver(channel, dirs, {
      handover: {
        stamp: options.stamp,
        lineMax: options.lineMax,
        replaceChar: options.replaceChar,
        replaceSet: [...options.replaceSet],
        verbose: options.verbose,
        names: [...names],
      },
      argv: options.argv!,
      write: options.write,
    });
    closeFd(channel);
  }
  const engine = new LineEngine(dirs, options);
  const reactor = new Reactor();
  const reacting = reactor.run();

  let exitAsap = false;
  let rotateAsap = false;
  let reopenAsap = false;
  let wake: (() => void) | undefined;
  const listeners: Array<[Deno.Signal, () => void]> = [
    ["SIGTERM", () => {
      info("sigterm received.");
      exitAsap = true;
      wake?.();
    }],
    ["SIGALRM", () => {
      info("sigalarm received.");
      rotateAsap = true;
      wake?.();
    }],
    ["SIGHUP", () => {
      info("sighangup received.");
      reopenAsap = true;
      wake?.();
    }],
  ];
  // The reaper has its own SIGCHLD listener; this one only says so, as runit's -v.
  if (options.verbose) listeners.push(["SIGCHLD", () => info("sigchild received.")]);
  for (const [signal, listener] of listeners) catchSignal(signal, listener);

  const rotate = async (dir: LogDir) => {
    if (dir.processorBusy) await dir.idle();
    dir.rotate();
  };
  const waitInput = (ms: number) =>
    new Promise<void>((resolve) => {
      let watching = false;
      const done = () => {
        if (watching) reactor.unwatch(0);
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      wake = done;
      try {
        reactor.watch(0, done);
        watching = true;
      } catch {
        // Not pollable (a regular file never blocks anyway).
      }
      const timer = setTimeout(done, Math.max(0, ms));
    });

  try {
    setNonBlocking(0, true);
  } catch {
    // A closed stdin reads as end of input below.
  }
  const buffer = new Uint8Array(READ_SIZE);
  let lastYield = Date.now();
  let code = 0;
  for (;;) {
    for (const dir of dirs) dir.flush();
    if (rotateAsap) {
      rotateAsap = false;
      for (const dir of dirs) await rotate(dir);
    }
    for (const dir of dirs) if (dir.rotatePending) await rotate(dir);
    if (exitAsap && engine.lineComplete) break;
    if (reopenAsap) {
      reopenAsap = false;
      for (const dir of dirs) dir.flush();
      if (!reopen()) {
        code = 111;
        break;
      }
    }
    let sleep = MAX_SLEEP_MS;
    const time = Date.now();
    for (const dir of dirs) {
      if (!dir.isOpen || dir.config.timeMax === 0) continue;
      if (dir.rotateAt < time) await rotate(dir);
      sleep = Math.min(sleep, dir.rotateAt - time);
    }
    let n: number;
    try {
      n = readFd(0, exitAsap ? buffer.subarray(0, 1) : buffer);
    } catch (error) {
      if (!(error instanceof SysError)) throw error;
      options.write(`svlogd: warning: unable to read standard input: ${errorText(error.errno)}\n`);
      break;
    }
    if (n === 0) break;
    if (n < 0) {
      await waitInput(sleep);
      lastYield = Date.now();
      continue;
    }
    engine.setTime(now());
    const data = buffer.subarray(0, n);
    let pos = 0;
    for (;;) {
      pos = engine.consume(data, pos);
      const blocked = engine.blocked;
      if (blocked === undefined) break;
      await blocked.idle();
    }
    if (Date.now() - lastYield >= YIELD_MS) {
      await macrotask();
      lastYield = Date.now();
    }
  }
  if (code === 0) {
    while (!engine.finish()) await engine.blocked!.idle();
    for (const dir of dirs) {
      dir.flush();
      for (;;) {
        const rotating = dir.rotatePending;
        if (!rotating) break;
        await rotate(dir);
      }
    }
    for (const dir of dirs) {
      await dir.idle();
      dir.close();
    }
  }
  for (const [signal, listener] of listeners) uncatchSignal(signal, listener);
  engine.close();
  reactor.stop();
  await reacting;
  reactor.close();
  children.close();
  return code;
}
