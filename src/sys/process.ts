/**
 * Processes: the one spawn path (posix_spawn), signals, waitpid and the
 * wall clock.
 *
 * @module
 */

import { cstring, cstringArray, errno, libc } from "./libc.ts";
import { Errno, SysError } from "./errno.ts";

/** Linux signal numbers (x86_64 and aarch64 agree on these). */
export const SIG = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  KILL: 9,
  USR1: 10,
  USR2: 12,
  ALRM: 14,
  TERM: 15,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
} as const;

/** How to start a child. */
export interface SpawnOptions {
  /** The program to execute; defaults to `argv[0]`. */
  path?: string;
  /** Search PATH for `path` (posix_spawnp). */
  search?: boolean;
  /** Environment as `NAME=value` strings; defaults to this process's. */
  env?: readonly string[];
  /** Change to this directory descriptor before exec. */
  cwdFd?: number;
  /** Change to this directory before exec. */
  cwd?: string;
  /** Descriptors to install: `[target, source]` pairs, applied in order. */
  dup?: ReadonlyArray<readonly [number, number]>;
  /** Descriptors to close in the child. */
  close?: readonly number[];
  /** Start a new session (setsid), so the child leads its own process group. */
  newSession?: boolean;
}

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;

/**
 * Every NAME=value of this process's environment, for a child's envp.
 *
 * @example
 * ```ts
 * import { currentEnvironment } from "./process.ts";
 * currentEnvironment().some((entry) => entry.startsWith("PATH="));
 * ```
 */
export function currentEnvironment(): string[] {
  return Object.entries(Deno.env.toObject()).map(([name, value]) => `${name}=${value}`);
}

/**
 * Start a program with posix_spawn: every signal back to its default
 * disposition (Deno ignores SIGPIPE, and that would survive exec), an empty
 * signal mask, the requested descriptors and directory. Returns the pid;
 * throws {@link SysError} when the program cannot be started (exec errors are
 * reported here by glibc, not in the child).
 *
 * @example
 * ```ts ignore
 * import { spawn } from "./process.ts";
 * const pid = spawn(["/bin/true"], {});
 * ```
 */
export function spawn(argv: readonly string[], options: SpawnOptions = {}): number {
  const c = libc();
  const actions = new Uint8Array(128);
  const attributes = new Uint8Array(512);
  const sigset = new Uint8Array(128);
  c.posix_spawn_file_actions_init(actions);
  c.posix_spawnattr_init(attributes);
  try {
    const keep: Uint8Array[] = [];
    if (options.cwdFd !== undefined) {
      c.posix_spawn_file_actions_addfchdir_np(actions, options.cwdFd);
    }
    if (options.cwd !== undefined) {
      const path = cstring(options.cwd);
      keep.push(path);
      c.posix_spawn_file_actions_addchdir_np(actions, path);
    }
    for (const [target, source] of options.dup ?? []) {
      c.posix_spawn_file_actions_adddup2(actions, source, target);
    }
    for (const fd of options.close ?? []) c.posix_spawn_file_actions_addclose(actions, fd);
    // Every bit, not sigfillset: that leaves out glibc's internal signals
    // (32, 33), which posix_spawn then sets to SIG_IGN, and an ignored
    // disposition survives exec.
    sigset.fill(0xff);
    c.posix_spawnattr_setsigdefault(attributes, sigset);
    c.sigemptyset(sigset);
    c.posix_spawnattr_setsigmask(attributes, sigset);
    const flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
      (options.newSession ? POSIX_SPAWN_SETSID : 0);
    c.posix_spawnattr_setflags(attributes, flags);
    const path = cstring(options.path ?? argv[0]);
    const args = cstringArray(argv);
    const env = cstringArray(options.env ?? currentEnvironment());
    const pid = new Int32Array(1);
    const call = options.search ? c.posix_spawnp : c.posix_spawn;
    const result = call(
      new Uint8Array(pid.buffer),
      path,
      actions,
      attributes,
      args.array,
      env.array,
    );
    keep.length = 0;
    if (result !== 0) throw new SysError(`start ${options.path ?? argv[0]}`, result);
    return pid[0];
  } finally {
    c.posix_spawn_file_actions_destroy(actions);
    c.posix_spawnattr_destroy(attributes);
  }
}

/** What waitpid reported for a child: the raw wait status. */
export interface WaitResult {
  /** The child's pid. */
  pid: number;
  /** The raw wait status (exit code in bits 8-15, signal in bits 0-6). */
  status: number;
}

const WNOHANG = 1;

/**
 * waitpid(pid, WNOHANG): a reaped child, or undefined when none is ready
 * (or there are no children at all).
 *
 * @example
 * ```ts ignore
 * import { reapOne } from "./process.ts";
 * reapOne(-1); // undefined when nothing has exited
 * ```
 */
export function reapOne(pid: number): WaitResult | undefined {
  const status = new Int32Array(1);
  const result = waitNoHang(pid, status);
  return result > 0 ? { pid: result, status: status[0] } : undefined;
}

/** waitpid(pid, WNOHANG), EINTR retried: the pid reaped, 0 when none is ready, or -errno. */
function waitNoHang(pid: number, status: Int32Array<ArrayBuffer>): number {
  for (;;) {
    const result = libc().waitpid(pid, new Uint8Array(status.buffer), WNOHANG);
    if (result >= 0) return result;
    const code = errno();
    if (code !== Errno.EINTR) return -code;
  }
}

/**
 * waitpid(pid, 0) on a runtime thread: the child's raw wait status. Throws
 * {@link SysError} ("wait for child PID") when it cannot be known: `pid` is
 * not a child of ours, or someone else (a `waitpid(-1)` reaper) took its
 * status first (ECHILD).
 *
 * @example
 * ```ts ignore
 * import { exitCode, spawn, waitFor } from "./process.ts";
 * exitCode(await waitFor(spawn(["/bin/false"]))); // 1
 * ```
 */
export async function waitFor(pid: number): Promise<number> {
  const status = new Int32Array(1);
  for (;;) {
    const result = await libc().waitpid_blocking(pid, new Uint8Array(status.buffer), 0);
    if (result === pid) return status[0];
    // That failure's errno was the worker thread's: ask again on this one,
    // without blocking, to learn it (or get the status, had the child just
    // exited). 0: it still runs, the blocking wait was interrupted.
    const again = waitNoHang(pid, status);
    if (again === pid) return status[0];
    if (again < 0) throw new SysError(`wait for child ${pid}`, -again);
  }
}

/**
 * The exit code of a wait status, or -1 when the child was killed by a signal.
 *
 * @example
 * ```ts
 * import { exitCode } from "./process.ts";
 * exitCode(0x0100); // 1
 * exitCode(15); // -1
 * ```
 */
export function exitCode(status: number): number {
  return (status & 0x7f) === 0 ? (status >> 8) & 0xff : -1;
}

/**
 * kill(2); returns false (and leaves errno meaning) when it failed.
 *
 * @example
 * ```ts ignore
 * import { sendSignal, SIG } from "./process.ts";
 * sendSignal(Deno.pid, SIG.CONT);
 * ```
 */
export function sendSignal(pid: number, signal: number): boolean {
  return libc().kill(pid, signal) === 0;
}

/** A point in time: Unix seconds and nanoseconds. */
export interface Timestamp {
  /** Seconds since the Unix epoch. */
  sec: number;
  /** Nanoseconds within the second. */
  nsec: number;
}

/**
 * The wall clock with nanoseconds (clock_gettime(CLOCK_REALTIME)).
 *
 * @example
 * ```ts
 * import { now } from "./process.ts";
 * now().sec > 0; // true
 * ```
 */
export function now(): Timestamp {
  const timespec = new BigInt64Array(2);
  libc().clock_gettime(0, new Uint8Array(timespec.buffer));
  return { sec: Number(timespec[0]), nsec: Number(timespec[1]) };
}

/**
 * setsid(2): make this process a session leader.
 *
 * @example
 * ```ts ignore
 * import { newSession } from "./process.ts";
 * newSession();
 * ```
 */
export function newSession(): boolean {
  return libc().setsid() !== -1;
}
