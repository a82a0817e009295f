/**
 * Processes: the one spawn path (posix_spawn), signals, waitpid and the
 * wall clock.
 *
 * @module
 */

import { cstring, cstringArray, errno, libc } from "./libc.ts";
import { Errno, SysError } from "./errno.ts";
import { closeFd, makePipe, readFd } from "./fs.ts";
import { duplicateFd } from "./descriptors.ts";
import { sessionHelperImage } from "./session_helper.ts";
import { loadProgram } from "./memfd.ts";
import { ignoresToPassOn } from "./signals.ts";
import { inheritedNofile, withInheritedNofile } from "./limits.ts";

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
  /**
   * Start the child in a new session and process group, other than ours,
   * as an ordinary member: the session helper leads them, so the child may
   * call setsid() itself (as a service under runit's runsv may). Where the
   * helper cannot run (no /proc/self/fd, an architecture without one, with
   * `search`, or with file actions on every descriptor from 3 to 9) the
   * child itself leads the new session (POSIX_SPAWN_SETSID), and its
   * setsid() fails.
   */
  newSession?: boolean;
  /**
   * Start the child as the leader of a new session and process group
   * (POSIX_SPAWN_SETSID), so that its pid names its group, as runit's stage
   * 2 is started. Takes precedence over `newSession`.
   */
  leadSession?: boolean;
}

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const EFAULT = 14;
/**
 * The descriptor on which the session helper reports to us, unless the
 * child's file actions need it: then the first free one up to
 * {@link LAST_STATUS_FD}, with a helper built for it.
 */
const STATUS_FD = 3;
const LAST_STATUS_FD = 9;
/** Our own descriptors that a child's file actions must not touch go at least this high. */
const ASIDE_FD = 10;

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
 * Start a program with posix_spawn: signals at their default disposition
 * (Deno ignores SIGPIPE, and that would survive exec) except those our
 * parent had ignored and we do not catch (see signals.ts), an empty signal mask, the requested descriptors and
 * directory. With `newSession` the child is started by the session helper
 * (see session_helper.ts) in a session it does not lead, and is still our
 * own child. Returns the pid; throws {@link SysError} when the program
 * cannot be started (exec errors are reported here, not in the child, which
 * is reaped).
 *
 * @example
 * ```ts ignore
 * import { spawn } from "./process.ts";
 * const pid = spawn(["/bin/true"], {});
 * ```
 */
export function spawn(argv: readonly string[], options: SpawnOptions = {}): number {
  const path = options.path ?? argv[0];
  const helper = options.newSession && !options.leadSession ? sessionHelper(options) : undefined;
  const started = helper
    ? startInSession(helper, [path, ...argv], options)
    : posixSpawn(path, argv, options, {
      setsid: (options.newSession || options.leadSession) ?? false,
      search: options.search ?? false,
    });
  if (started.error !== 0) throw new SysError(`start ${path}`, started.error);
  return started.pid;
}

/** A started child, or the errno of the failure (error 0 when started). */
interface Started {
  pid: number;
  error: number;
}

/** posix_spawn(p) with our signal state and `options`' file actions; `status` goes to `statusFd` (3) last. */
function posixSpawn(
  path: string,
  argv: readonly string[],
  options: SpawnOptions,
  how: { setsid: boolean; search: boolean; status?: number; statusFd?: number },
): Started {
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
      const directory = cstring(options.cwd);
      keep.push(directory);
      c.posix_spawn_file_actions_addchdir_np(actions, directory);
    }
    for (const [target, source] of options.dup ?? []) {
      c.posix_spawn_file_actions_adddup2(actions, source, target);
    }
    for (const fd of options.close ?? []) c.posix_spawn_file_actions_addclose(actions, fd);
    if (how.status !== undefined) {
      c.posix_spawn_file_actions_adddup2(actions, how.status, how.statusFd ?? STATUS_FD);
    }
    // Every bit, not sigfillset: that leaves out glibc's internal signals
    // (32, 33), which posix_spawn then sets to SIG_IGN, and an ignored
    // disposition survives exec. Inherited ignores are left as they are.
    sigset.fill(0xff);
    for (const signal of ignoresToPassOn()) {
      sigset[(signal - 1) >> 3] &= ~(1 << ((signal - 1) & 7));
    }
    c.posix_spawnattr_setsigdefault(attributes, sigset);
    c.sigemptyset(sigset);
    c.posix_spawnattr_setsigmask(attributes, sigset);
    const flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
      (how.setsid ? POSIX_SPAWN_SETSID : 0);
    c.posix_spawnattr_setflags(attributes, flags);
    const file = cstring(path);
    const args = cstringArray(argv);
    // Read (and removed from our environment) before the child's is built.
    inheritedNofile();
    const env = cstringArray(options.env ?? currentEnvironment());
    const pid = new Int32Array(1);
    const call = how.search ? c.posix_spawnp : c.posix_spawn;
    // The child gets the descriptor limit our parent gave us, not Deno's.
    const error = withInheritedNofile(() =>
      call(new Uint8Array(pid.buffer), file, actions, attributes, args.array, env.array)
    );
    keep.length = 0;
    return { pid: pid[0], error };
  } finally {
    c.posix_spawn_file_actions_destroy(actions);
    c.posix_spawnattr_destroy(attributes);
  }
}

/** The session helper, loaded into a memfd, run as /proc/self/fd/N. */
interface SessionHelper {
  fd: number;
  path: string;
  /** The descriptor it reports on. */
  statusFd: number;
}

/** By status descriptor: absent, not loaded yet; null, cannot be used here. */
const helpers = new Map<number, SessionHelper | null>();

/**
 * The helper, when it can start a child with these options: the usual one,
 * or (loaded on first need) one that reports on a descriptor the child's
 * file actions leave alone, such as a `notification-fd` of 3 needs.
 */
function sessionHelper(options: SpawnOptions): SessionHelper | undefined {
  if (options.search) return undefined;
  const touched = [...(options.dup ?? []).map(([target]) => target), ...(options.close ?? [])];
  let statusFd = STATUS_FD;
  while (touched.includes(statusFd)) {
    if (++statusFd > LAST_STATUS_FD) return undefined;
  }
  // Where the usual helper cannot run, no other can.
  const usual = loadedHelper(STATUS_FD);
  const helper = statusFd === STATUS_FD ? usual : usual && loadedHelper(statusFd);
  if (!helper || touched.includes(helper.fd)) return undefined;
  return helper;
}

function loadedHelper(statusFd: number): SessionHelper | null {
  let helper = helpers.get(statusFd);
  if (helper === undefined) helpers.set(statusFd, helper = loadSessionHelper(statusFd));
  return helper;
}

/**
 * Write the helper into a close-on-exec memfd and try it once (with no
 * program, so that its child's exec fails with EFAULT): null when the
 * kernel, /proc or an emulator (qemu-user refuses CLONE_PARENT) will not
 * let it work.
 */
function loadSessionHelper(statusFd: number): SessionHelper | null {
  const image = sessionHelperImage(Deno.build.arch, { statusFd });
  const program = image && loadProgram("runit-session-helper", image);
  if (!program) return null;
  const loaded = { ...program, statusFd };
  try {
    const trial = startInSession(loaded, [], {});
    if (trial.error === EFAULT) return loaded;
  } catch {
    // Unusable: fall back to POSIX_SPAWN_SETSID.
  }
  closeFd(loaded.fd);
  return null;
}

/**
 * Run the helper with `program` (`[path, argv0, args...]`): the pid of the
 * started program, or the errno of the failure with every child reaped.
 */
function startInSession(
  loaded: SessionHelper,
  program: readonly string[],
  options: SpawnOptions,
): Started {
  const [readEnd, pipeEnd] = makePipe();
  // The status pipe's write end must survive the other file actions.
  let writeEnd = aside(pipeEnd, [
    ...(options.dup ?? []).map(([target]) => target),
    ...(options.close ?? []),
    loaded.statusFd,
  ]);
  let helperPid = 0;
  try {
    const started = posixSpawn(loaded.path, ["runit-session-helper", ...program], options, {
      setsid: false,
      search: false,
      status: writeEnd,
      statusFd: loaded.statusFd,
    });
    closeFd(writeEnd);
    writeEnd = -1;
    if (started.error !== 0) return started;
    helperPid = started.pid;
    // Ends at EOF: when the program has exec'd (fd 3 is close-on-exec
    // there), or both have written a failure and exited.
    const report = new Int32Array(2);
    const bytes = new Uint8Array(report.buffer);
    let got = 0;
    while (got < bytes.length) {
      const n = readFd(readEnd, bytes.subarray(got));
      if (n <= 0) break;
      got += n;
    }
    // The helper's pid and the service's failed exec race: either comes first.
    const values = [...report.subarray(0, got >> 2)];
    const pid = values.find((value) => value > 0) ?? 0;
    const failure = values.find((value) => value < 0);
    if (failure === undefined) return pid > 0 ? { pid, error: 0 } : { pid: 0, error: Errno.ECHILD };
    if (pid > 0) waitChild(pid);
    return { pid: 0, error: -failure };
  } finally {
    closeFd(readEnd);
    closeFd(writeEnd);
    if (helperPid > 0) waitChild(helperPid);
  }
}

/** `fd`, or a close-on-exec copy numbered ASIDE_FD or more when it is below 4 or in `avoid`. */
function aside(fd: number, avoid: readonly number[]): number {
  if (fd > STATUS_FD && !avoid.includes(fd)) return fd;
  try {
    return duplicateFd(fd, { min: Math.max(ASIDE_FD, ...avoid.map((n) => n + 1)), move: true });
  } catch {
    return fd;
  }
}

/** waitpid(pid, 0): for a child known to be exiting now. */
function waitChild(pid: number): void {
  const status = new Uint8Array(4);
  while (libc().waitpid(pid, status, 0) === -1 && errno() === Errno.EINTR) {
    // Interrupted: wait again.
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

/**
 * getpgid(2): the process group of `pid` (0: this process), or -1 when
 * there is no such process.
 *
 * @example
 * ```ts
 * import { processGroupOf } from "./process.ts";
 * processGroupOf(0) > 0; // true
 * ```
 */
export function processGroupOf(pid: number): number {
  return libc().getpgid(pid);
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
