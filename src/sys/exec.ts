/**
 * Becoming another program: execve with djb's PATH search, the signal state
 * a fresh program expects, and the descriptor moves that must happen just
 * before it. After {@link execProgram} fails the process should end with
 * {@link exitNow}, since descriptors the runtime owns may have been reused.
 *
 * @module
 */

import { cstring, cstringArray, errno, libc } from "./libc.ts";
import { Errno, SysError } from "./errno.ts";

const SIGPIPE = 13;
const SIG_SETMASK = 2;
const F_GETFD = 1;
const FD_CLOEXEC = 1;

/** What the program is run with. */
export interface ExecOptions {
  /** The environment, as `NAME=value` strings. */
  env: readonly string[];
  /** The search path for a file name without a slash (default "/bin:/usr/bin"). */
  path?: string;
}

/**
 * Undo what the runtime changed that would survive exec: Deno ignores
 * SIGPIPE (an ignored disposition is inherited), and the calling thread's
 * signal mask is kept by execve, so empty it.
 */
function restoreSignalState(): void {
  const c = libc();
  c.signal(SIGPIPE, null);
  const empty = new Uint8Array(128);
  c.sigemptyset(empty);
  c.sigprocmask(SIG_SETMASK, empty, null);
}

/**
 * Replace this process with `file`, run with `argv` (djb's pathexec_run: a
 * name without a slash is tried in each directory of `path`, an empty entry
 * meaning the current directory; the first error other than "file does not
 * exist" is the one reported). Returns only on failure, with the errno.
 *
 * @example
 * ```ts
 * import { execProgram } from "./exec.ts";
 * const code = execProgram("sleep", ["sleep", "1"], { env: [], path: "/bin:/usr/bin" });
 * ```
 */
export function execProgram(
  file: string,
  argv: readonly string[],
  options: ExecOptions,
): number {
  restoreSignalState();
  const args = cstringArray(argv);
  const env = cstringArray(options.env);
  const c = libc();
  if (file.includes("/")) {
    c.execve(cstring(file), args.array, env.array);
    return errno();
  }
  const dirs = (options.path ?? "/bin:/usr/bin").split(":");
  let saved = 0;
  for (const dir of dirs) {
    c.execve(cstring(`${dir === "" ? "." : dir}/${file}`), args.array, env.array);
    const code = errno();
    if (code === Errno.ENOENT) continue;
    saved = code;
    if (code !== Errno.EACCES && code !== Errno.EPERM && code !== Errno.EISDIR) return code;
  }
  return saved || Errno.ENOENT;
}

/**
 * The lowest descriptor number that exec would not pass on (closed, or
 * close-on-exec), ignoring `except`: where a C program, which holds no
 * close-on-exec descriptors of its own, would have got its next one.
 *
 * @example
 * ```ts
 * import { lowestUninherited } from "./exec.ts";
 * lowestUninherited(-1); // 3 when only 0, 1 and 2 are inherited
 * ```
 */
export function lowestUninherited(except: number): number {
  for (let fd = 0;; fd++) {
    if (fd === except) return fd;
    const flags = libc().fcntl(fd, F_GETFD, 0);
    if (flags === -1 || (flags & FD_CLOEXEC) !== 0) return fd;
  }
}

/**
 * Make `target` refer to what `source` does (dup2, which leaves `target`
 * inheritable), then close `source`. Whatever was on `target` is closed.
 *
 * @example
 * ```ts
 * import { moveDescriptor } from "./exec.ts";
 * moveDescriptor(17, 3);
 * ```
 */
export function moveDescriptor(source: number, target: number): void {
  if (source === target) return;
  if (libc().dup2(source, target) === -1) throw new SysError("dup2", errno());
  libc().close(source);
}

/**
 * close(2), reporting failure (EBADF for a descriptor that is not open).
 *
 * @example
 * ```ts
 * import { closeDescriptor } from "./exec.ts";
 * closeDescriptor(0);
 * ```
 */
export function closeDescriptor(fd: number): void {
  if (libc().close(fd) === -1) throw new SysError(`close ${fd}`, errno());
}

/**
 * _exit(2): end now, without the runtime's shutdown (which may touch
 * descriptors that were reused for the program's sake).
 *
 * @example
 * ```ts
 * import { exitNow } from "./exec.ts";
 * exitNow(111);
 * ```
 */
export function exitNow(code: number): never {
  libc()._exit(code);
  throw new Error("unreachable");
}
