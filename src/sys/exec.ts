/**
 * Becoming another program: execve with djb's PATH search, the signal state
 * a fresh program expects, and where a descriptor kept for the program
 * belongs. After a {@link PreparedExec} fails the process should end with
 * {@link exitNow}, since descriptors the runtime owns may have been reused.
 *
 * @module
 */

import { cstring, cstringArray, errno, libc } from "./libc.ts";
import { Errno } from "./errno.ts";

const SIGPIPE = 13;
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
 * SIGPIPE, and an ignored disposition is inherited. (Handlers it installed
 * are reset by execve itself; the signal mask of the calling thread is the
 * one we were started with, and passes on as it does through runit's chpst.)
 * Call it once this process is committed to exec.
 *
 * @example
 * ```ts ignore
 * import { defaultSignalsForExec } from "./exec.ts";
 * defaultSignalsForExec();
 * ```
 */
export function defaultSignalsForExec(): void {
  libc().signal(SIGPIPE, null);
}

/** An exec with every C string built: running it allocates nothing. */
export interface PreparedExec {
  /** execve each candidate in turn; returns the errno when none could be run. */
  run(): number;
}

/**
 * Get ready to replace this process with `file`, run with `argv` (djb's
 * pathexec_run: a name without a slash is tried in each directory of
 * `path`, an empty entry meaning the current directory; the first error
 * other than "file does not exist" is the one reported). Everything is
 * built now, so that `run()` still works after tight resource limits.
 * See {@link defaultSignalsForExec} for the signal state.
 *
 * @example
 * ```ts ignore
 * import { prepareExec } from "./exec.ts";
 * const exec = prepareExec("sleep", ["sleep", "1"], { env: [], path: "/bin:/usr/bin" });
 * const errno = exec.run(); // only returns when it failed
 * ```
 */
export function prepareExec(
  file: string,
  argv: readonly string[],
  options: ExecOptions,
): PreparedExec {
  const args = cstringArray(argv);
  const env = cstringArray(options.env);
  const candidates = file.includes("/")
    ? [cstring(file)]
    : (options.path ?? "/bin:/usr/bin").split(":").map((dir) =>
      cstring(`${dir === "" ? "." : dir}/${file}`)
    );
  const c = libc();
  // Bind now: binding a symbol compiles code, memory tight limits may deny.
  for (const name of ["execve", "__errno_location", "_exit"] as const) void c[name];
  const search = !file.includes("/");
  return {
    run(): number {
      let saved = 0;
      // Index loops: no iterator objects once limits are tight.
      for (let index = 0; index < candidates.length; index++) {
        c.execve(candidates[index], args.array, env.array);
        const code = errno();
        if (!search) return code;
        if (code === Errno.ENOENT) continue;
        saved = code;
        if (code !== Errno.EACCES && code !== Errno.EPERM && code !== Errno.EISDIR) return code;
      }
      return saved || Errno.ENOENT;
    },
  };
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
 * _exit(2): end now, without the runtime's shutdown (which may touch
 * descriptors that were reused for the program's sake).
 *
 * @example
 * ```ts ignore
 * import { exitNow } from "./exec.ts";
 * exitNow(111);
 * ```
 */
export function exitNow(code: number): never {
  libc()._exit(code);
  throw new Error("unreachable");
}
