/**
 * runit-init(8): the program the kernel starts as init. As process 1 it
 * becomes runit(8) (the same binary: no /sbin/runit needed); otherwise
 * `0` asks process 1 to halt and `6` to reboot, through /etc/runit/stopit,
 * /etc/runit/reboot and a CONT signal, as runit 2.3.0's runit-init does.
 *
 * @module
 */

import { APPLETS } from "./cli/applets.ts";
import { usage, writeErr } from "./cli/output.ts";
import { type AppletContext, USAGE, versionLine } from "./cli/program.ts";
import { REBOOT, STOPIT } from "./init/paths.ts";
import { Errno, errnoOf, SysError } from "./sys/errno.ts";
import { AT_FDCWD, chmodAt, closeFd, O, openAt } from "./sys/fs.ts";
import { sendSignal, SIG } from "./sys/process.ts";

const FATAL = "init: fatal: ";

/**
 * Run runit-init with its arguments; resolves with the exit code (as
 * process 1, never: it runs runit).
 *
 * @example
 * ```ts ignore
 * import { main } from "./runit_init.ts";
 * await main(["0"], { program: "runit-init", argv0: "init" }); // halt the system
 * ```
 */
export async function main(args: string[], context: AppletContext): Promise<number> {
  if (Deno.pid === 1) return await (await APPLETS.runit.load())(args, context);
  // runit looks at the first character of the first argument only.
  const first = args[0] ?? "";
  if (first[0] === "0" || first[0] === "6") {
    const fail = ask(first[0] === "6");
    if (fail) {
      writeErr(`${FATAL}${fail}\n`);
      return 111;
    }
    sendSignal(1, SIG.CONT);
    return 0;
  }
  if (first[0] === "-" && first[1] === "V") writeErr(`${versionLine()}\n\n`);
  usage(context.argv0, { args: USAGE.runitInit, code: 0 });
}

/** Set stopit, and reboot for a reboot (cleared for a halt): runit's message on failure. */
function ask(reboot: boolean): string | undefined {
  try {
    create(STOPIT);
    chmod(STOPIT, 0o100);
    if (reboot) {
      create(REBOOT);
      chmod(REBOOT, 0o100);
    } else {
      try {
        chmod(REBOOT, 0);
      } catch (error) {
        if (errnoOf(error) !== Errno.ENOENT) throw error;
      }
    }
    return undefined;
  } catch (error) {
    return error instanceof SysError ? error.message : String(error);
  }
}

/** Create or truncate `path` as runit's open_trunc does. */
function create(path: string): void {
  closeFd(openAt(AT_FDCWD, path, {
    flags: O.WRONLY | O.NONBLOCK | O.TRUNC | O.CREAT | O.CLOEXEC,
    mode: 0o644,
    what: `create ${path}`,
  }));
}

/** chmod(2), failing with runit's words. */
function chmod(path: string, bits: number): void {
  try {
    chmodAt(AT_FDCWD, path, bits);
  } catch (error) {
    throw new SysError(`chmod ${path}`, errnoOf(error));
  }
}
