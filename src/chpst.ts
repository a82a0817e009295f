/**
 * chpst: change the process state, then become the program (execve, so the
 * pid a supervisor watches is the program's). runit 2.3.0's options, order
 * of operations, messages and exit codes: 100 for wrong usage, 111 when a
 * state change fails, otherwise whatever the program exits with.
 *
 * The daemontools names (envdir, setuidgid, …) are in chpst/daemontools.ts.
 *
 * @module
 */

import { type AppletContext, USAGE, versionLine } from "./cli/program.ts";
import { getopt } from "./cli/getopt.ts";
import { usage, writeErr } from "./cli/output.ts";
import { scanUlong } from "./cli/scan.ts";
import {
  adjustNice,
  changeDir,
  changeRoot,
  closeFd,
  errorText,
  exitNow,
  getLimit,
  newSession,
  prepareLimits,
  type ResourceLimit,
  RLIMIT,
  setCredentials,
  SysError,
} from "./sys/mod.ts";
import { type EnvChange, EnvDirError, readEnvDir } from "./chpst/envdir.ts";
import { resolveAccount } from "./chpst/uidgid.ts";
import { takeLock } from "./chpst/lock.ts";
import { programFor } from "./chpst/run.ts";

const FATAL = "chpst: fatal: ";
const WARNING = "chpst: warning: ";

/** End with runit's "chpst: fatal: TEXT" and 111, without runtime shutdown. */
function fatal(text: string): never {
  writeErr(`${FATAL}${text}\n`);
  return exitNow(111);
}

/** A limit value: digits only, scanned as a C long (2^63 and above are negative: no limit). */
function limitValue(text: string): bigint | undefined {
  const { value, length } = scanUlong(text);
  if (length !== text.length) return undefined;
  return value >= 1n << 63n ? -1n : value;
}

/** runit's limit(): a negative value or one above the hard limit means the hard limit. */
function wantedLimit(resource: number, value: bigint): [number, ResourceLimit] {
  let limit;
  try {
    limit = getLimit(resource);
  } catch (error) {
    fatal(`unable to getrlimit(): ${errorText((error as SysError).errno)}`);
  }
  return [resource, {
    soft: value < 0n || value > limit.hard ? limit.hard : value,
    hard: limit.hard,
  }];
}

/** Resolve `-u`/`-U`'s argument or die with runit's message. */
function account(spec: string): { uid: number; gids: number[] } {
  const found = resolveAccount(spec);
  if ("uid" in found) return found;
  if (found.kind === "invalid") fatal(`invalid uid/gids: ${found.text}`);
  if (found.kind === "lookup") {
    fatal(`unable to get password/group file entry: ${errorText(found.errno)}`);
  }
  return fatal(`unknown user/group: ${found.text}`);
}

/** The state changes asked for, in runit's variables. */
interface Plan {
  setUser?: string;
  envUser?: string;
  argv0?: string;
  envDir?: string;
  root?: string;
  pwd?: string;
  nice: number;
  lock?: string;
  lockWait: boolean;
  verbose: boolean;
  newGroup: boolean;
  close: number[];
  limits: Map<number, bigint>;
}

/** Limits in the order runit applies them. */
const LIMIT_ORDER = [
  RLIMIT.DATA,
  RLIMIT.STACK,
  RLIMIT.MEMLOCK,
  RLIMIT.AS,
  RLIMIT.NOFILE,
  RLIMIT.NPROC,
  RLIMIT.FSIZE,
  RLIMIT.CORE,
  RLIMIT.RSS,
  RLIMIT.CPU,
];

const LIMIT_OPTIONS: Record<string, number[]> = {
  m: [RLIMIT.STACK, RLIMIT.MEMLOCK, RLIMIT.AS, RLIMIT.DATA],
  d: [RLIMIT.DATA],
  o: [RLIMIT.NOFILE],
  p: [RLIMIT.NPROC],
  f: [RLIMIT.FSIZE],
  c: [RLIMIT.CORE],
  r: [RLIMIT.RSS],
  t: [RLIMIT.CPU],
};

function parse(args: string[], program: string): { plan: Plan; operands: string[] } {
  const die = () => usage(program, { args: USAGE.chpst, code: 100 });
  const { options, operands, ok } = getopt(args, "u:U:b:e:m:d:o:p:f:c:r:t:/:C:n:l:L:vP012V", {
    program,
  });
  const plan: Plan = {
    nice: 0,
    lockWait: false,
    verbose: false,
    newGroup: false,
    close: [],
    limits: new Map(),
  };
  for (const { name, value = "" } of options) {
    switch (name) {
      case "u":
        plan.setUser = value;
        break;
      case "U":
        plan.envUser = value;
        break;
      case "b":
        plan.argv0 = value;
        break;
      case "e":
        plan.envDir = value;
        break;
      case "/":
        plan.root = value;
        break;
      case "C":
        plan.pwd = value;
        break;
      case "n": {
        const sign = value[0] === "-" ? -1 : 1;
        const amount = limitValue(value[0] === "-" || value[0] === "+" ? value.slice(1) : value);
        if (amount === undefined) die();
        plan.nice = sign * Number(BigInt.asIntN(32, amount!));
        break;
      }
      case "l":
      case "L":
        if (plan.lock !== undefined) die();
        plan.lock = value;
        plan.lockWait = name === "l";
        break;
      case "v":
        plan.verbose = true;
        break;
      case "P":
        plan.newGroup = true;
        break;
      case "0":
      case "1":
      case "2":
        plan.close.push(Number(name));
        break;
      case "V":
        writeErr(`${versionLine()}\n`);
        die();
        break;
      default: {
        const amount = limitValue(value);
        if (amount === undefined) die();
        for (const resource of LIMIT_OPTIONS[name]) plan.limits.set(resource, amount!);
      }
    }
  }
  if (!ok || operands.length === 0) die();
  return { plan, operands };
}

function readEnvironment(dir: string, verbose: boolean): EnvChange[] {
  try {
    return readEnvDir(dir, {
      onDirectory(file, errno) {
        if (verbose) writeErr(`${WARNING}unable to read ${dir}/${file}: ${errorText(errno)}\n`);
      },
    });
  } catch (error) {
    if (!(error instanceof EnvDirError)) throw error;
    if (error.step === "list") {
      fatal(`unable to switch to directory: ${dir}: ${errorText(error.errno)}`);
    }
    return fatal(`unable to read ${dir}/${error.file}: ${errorText(error.errno)}`);
  }
}

function attempt(what: string, step: () => void): void {
  try {
    step();
  } catch (error) {
    if (!(error instanceof SysError)) throw error;
    fatal(`${what}: ${errorText(error.errno)}`);
  }
}

/**
 * Run chpst. On success it does not return: the process has become the program.
 *
 * @example
 * ```ts ignore
 * import { main } from "./chpst.ts";
 * await main(["-u", "nobody", "id"], { program: "chpst", argv0: "chpst" });
 * ```
 */
export async function main(args: string[], context: AppletContext): Promise<number> {
  const { plan, operands } = parse(args, context.program);
  const changes: EnvChange[] = [];
  if (plan.newGroup) newSession();
  if (plan.envDir !== undefined) changes.push(...readEnvironment(plan.envDir, plan.verbose));
  if (plan.root !== undefined) {
    const root = plan.root;
    attempt(`unable to change directory: ${root}`, () => changeDir(root));
    attempt("unable to change root directory", () => changeRoot("."));
  }
  if (plan.pwd !== undefined) {
    const pwd = plan.pwd;
    attempt(`unable to change directory: ${pwd}`, () => changeDir(pwd));
  }
  if (plan.nice !== 0) attempt("unable to set nice level", () => adjustNice(plan.nice));
  if (plan.envUser !== undefined) {
    const { uid, gids } = account(plan.envUser);
    changes.push(["GID", String(gids[0] ?? 0)], ["UID", String(uid)]);
  }
  if (plan.setUser !== undefined) {
    const { uid, gids } = account(plan.setUser);
    try {
      setCredentials(uid, gids);
    } catch (error) {
      if (!(error instanceof SysError)) throw error;
      fatal(`unable to ${error.operation}: ${errorText(error.errno)}`);
    }
  }
  if (plan.lock !== undefined) {
    const failure = await takeLock(plan.lock, { wait: plan.lockWait });
    if (failure) {
      const what = failure.step === "open" ? "unable to open lock" : "unable to lock";
      fatal(`${what}: ${plan.lock}: ${errorText(failure.errno)}`);
    }
  }
  const names = ["stdin", "stdout", "stderr"];
  for (const fd of [0, 1, 2]) {
    if (plan.close.includes(fd)) {
      attempt(`unable to close ${names[fd]}`, () => closeFd(fd, { strict: true }));
    }
  }
  // Everything the exec needs is built before the limits are set: a tight
  // data or address-space limit must stop the program, not this runtime.
  const limits = LIMIT_ORDER.filter((resource) => plan.limits.has(resource))
    .map((resource) => wantedLimit(resource, plan.limits.get(resource)!));
  const program = programFor(operands, { changes, argv0: plan.argv0 });
  const setLimits = prepareLimits(limits);
  try {
    setLimits();
  } catch (error) {
    fatal(`unable to setrlimit(): ${errorText((error as SysError).errno)}`);
  }
  const errno = program.run();
  return fatal(`unable to run: ${plan.argv0 ?? operands[0]}: ${errorText(errno)}`);
}
