/**
 * The daemontools programs chpst stands in for, chosen by the name it is
 * called as: envdir, envuidgid, pgrphack, setuidgid, softlimit, setlock.
 * Each behaves (messages, exit codes) as Debian's daemontools 0.76 does;
 * each ends by becoming its child program.
 *
 * @module
 */

import { type AppletContext, USAGE } from "../cli/program.ts";
import { getopt } from "../cli/getopt.ts";
import { writeErr } from "../cli/output.ts";
import { scanUlong } from "../cli/scan.ts";
import {
  errorText,
  exitNow,
  getLimit,
  newSession,
  prepareLimits,
  type ResourceLimit,
  RLIMIT,
  setCredentials,
  SysError,
  userByName,
} from "../sys/mod.ts";
import { type EnvChange, EnvDirError, readEnvDir } from "./envdir.ts";
import { takeLock } from "./lock.ts";
import { programFor } from "./run.ts";

/** daemontools' strerr_die: the text, a newline, and the code, at once. */
function die(code: number, text: string): never {
  writeErr(`${text}\n`);
  return exitNow(code);
}

/** daemontools' usage message: the name is fixed, whatever argv[0] was. */
function usageLine(
  name: "envdir" | "envuidgid" | "pgrphack" | "setuidgid" | "softlimit" | "setlock",
): string {
  return `${name}: usage: ${name}${USAGE[name]}`;
}

/** Become `argv[0]`, or die as `name` does when that fails. */
function become(name: string, argv: readonly string[], changes: readonly EnvChange[] = []): never {
  const errno = programFor(argv, { changes }).run();
  return die(111, `${name}: fatal: unable to run ${argv[0]}: ${errorText(errno)}`);
}

/** getpwnam or die with "unknown account". */
function lookupAccount(name: string, account: string): { uid: number; gid: number } {
  const entry = userByName(account);
  if (!("uid" in entry)) die(111, `${name}: fatal: unknown account ${account}`);
  return entry as { uid: number; gid: number };
}

/**
 * setuidgid: run a program as an account (its uid, and its group as the only group). Does not return when the program starts.
 *
 * @example
 * ```ts ignore
 * import { setuidgid } from "./daemontools.ts";
 * setuidgid(["nobody", "id"], { program: "setuidgid", argv0: "setuidgid" });
 * ```
 */
export function setuidgid(args: string[], _context: AppletContext): Promise<number> {
  const [account, ...child] = args;
  if (account === undefined || child.length === 0) {
    die(100, usageLine("setuidgid"));
  }
  const { uid, gid } = lookupAccount("setuidgid", account);
  try {
    setCredentials(uid, [gid]);
  } catch (error) {
    if (!(error instanceof SysError)) throw error;
    // daemontools' prot_gid covers setgroups and setgid under one message.
    const what = error.operation === "setuid" ? "setuid" : "setgid";
    die(111, `setuidgid: fatal: unable to ${what}: ${errorText(error.errno)}`);
  }
  return become("setuidgid", child);
}

/**
 * envuidgid: run a program with $UID and $GID set to an account's ids. Does not return when the program starts.
 *
 * @example
 * ```ts ignore
 * import { envuidgid } from "./daemontools.ts";
 * envuidgid(["nobody", "env"], { program: "envuidgid", argv0: "envuidgid" });
 * ```
 */
export function envuidgid(args: string[], _context: AppletContext): Promise<number> {
  const [account, ...child] = args;
  if (account === undefined || child.length === 0) {
    die(100, usageLine("envuidgid"));
  }
  const { uid, gid } = lookupAccount("envuidgid", account);
  return become("envuidgid", child, [["GID", String(gid)], ["UID", String(uid)]]);
}

/**
 * envdir: run a program with the environment changed by a directory's files. Does not return when the program starts.
 *
 * @example
 * ```ts ignore
 * import { envdir } from "./daemontools.ts";
 * envdir(["/etc/sv/web/env", "./server"], { program: "envdir", argv0: "envdir" });
 * ```
 */
export function envdir(args: string[], _context: AppletContext): Promise<number> {
  const [dir, ...child] = args;
  if (dir === undefined || child.length === 0) die(111, usageLine("envdir"));
  let changes: EnvChange[];
  try {
    changes = readEnvDir(dir, {});
  } catch (error) {
    if (!(error instanceof EnvDirError)) throw error;
    if (error.step === "list") {
      die(111, `envdir: fatal: unable to switch to directory ${dir}: ${errorText(error.errno)}`);
    }
    die(111, `envdir: fatal: unable to read ${dir}/${error.file}: ${errorText(error.errno)}`);
  }
  return become("envdir", child, changes);
}

/**
 * pgrphack: run a program in a new session (and so a new process group). Does not return when the program starts.
 *
 * @example
 * ```ts ignore
 * import { pgrphack } from "./daemontools.ts";
 * pgrphack(["./server"], { program: "pgrphack", argv0: "pgrphack" });
 * ```
 */
export function pgrphack(args: string[], _context: AppletContext): Promise<number> {
  if (args.length === 0) die(100, usageLine("pgrphack"));
  newSession();
  return become("pgrphack", args);
}

/**
 * setlock [-nNxX]: run a program holding an exclusive lock on a file. Does not return when the program starts.
 *
 * @example
 * ```ts ignore
 * import { setlock } from "./daemontools.ts";
 * await setlock(["-n", "/run/web.lock", "./server"], { program: "setlock", argv0: "setlock" });
 * ```
 */
export async function setlock(args: string[], context: AppletContext): Promise<number> {
  const program = context.program;
  const { options, operands, ok } = getopt(args, "nNxX", { program });
  if (!ok) die(100, usageLine("setlock"));
  let wait = true;
  let quiet = false;
  for (const { name } of options) {
    if (name === "n" || name === "N") wait = name === "N";
    else quiet = name === "x";
  }
  const [file, ...child] = operands;
  if (file === undefined || child.length === 0) die(100, usageLine("setlock"));
  const failure = await takeLock(file, { wait });
  if (failure) {
    if (quiet) exitNow(0);
    const what = failure.step === "open" ? "open" : "lock";
    die(111, `setlock: fatal: unable to ${what} ${file}: ${errorText(failure.errno)}`);
  }
  return become("setlock", child);
}

const SOFTLIMIT_RESOURCES: Record<string, number[]> = {
  a: [RLIMIT.AS],
  c: [RLIMIT.CORE],
  d: [RLIMIT.DATA],
  f: [RLIMIT.FSIZE],
  l: [RLIMIT.MEMLOCK],
  m: [RLIMIT.DATA, RLIMIT.STACK, RLIMIT.MEMLOCK, RLIMIT.AS],
  o: [RLIMIT.NOFILE],
  p: [RLIMIT.NPROC],
  r: [RLIMIT.RSS],
  s: [RLIMIT.STACK],
  t: [RLIMIT.CPU],
};

/** daemontools' doit(): "=" means the hard limit, a number is capped by it. */
function softLimit(resource: number, text: string): [number, ResourceLimit] {
  let limit;
  try {
    limit = getLimit(resource);
  } catch (error) {
    die(111, `softlimit: fatal: getrlimit failed: ${errorText((error as SysError).errno)}`);
  }
  let soft = limit.hard;
  if (text !== "=") {
    const { value, length } = scanUlong(text);
    if (length !== text.length) die(100, usageLine("softlimit"));
    if (value < soft) soft = value;
  }
  return [resource, { soft, hard: limit.hard }];
}

/**
 * softlimit: run a program with lower soft resource limits. Does not return when the program starts.
 *
 * @example
 * ```ts ignore
 * import { softlimit } from "./daemontools.ts";
 * softlimit(["-o", "64", "./server"], { program: "softlimit", argv0: "softlimit" });
 * ```
 */
export function softlimit(args: string[], context: AppletContext): Promise<number> {
  const program = context.program;
  const { options, operands, ok } = getopt(args, "a:c:d:f:l:m:o:p:r:s:t:", { program });
  // daemontools sets each limit as it reads the option; here they are all
  // set just before the exec (nothing can be seen in between), so that the
  // runtime does not have to live under them.
  const limits = options.flatMap(({ name, value = "" }) =>
    SOFTLIMIT_RESOURCES[name].map((resource) => softLimit(resource, value))
  );
  if (!ok || operands.length === 0) die(100, usageLine("softlimit"));
  const exec = programFor(operands, {});
  try {
    prepareLimits(limits)();
  } catch (error) {
    die(111, `softlimit: fatal: setrlimit failed: ${errorText((error as SysError).errno)}`);
  }
  const errno = exec.run();
  return die(111, `softlimit: fatal: unable to run ${operands[0]}: ${errorText(errno)}`);
}
