/**
 * utmpset(8): log a terminal line out of utmp, and with `-w` write its
 * logout record to wtmp (for a getty service's `finish` script, since runit
 * as process 1 keeps no login accounting itself). Messages and exit codes as
 * runit 2.3.0's: 1 for usage, 111 for errors.
 *
 * @module
 */

import { getopt } from "./cli/getopt.ts";
import { usage, writeErr } from "./cli/output.ts";
import { type AppletContext, USAGE, versionLine } from "./cli/program.ts";
import { encodeName } from "./sys/fs.ts";
import { errorText, SysError } from "./sys/errno.ts";
import { appendWtmpLogout, logoutUtmp, UT_SIZE, UTMP_PATHS } from "./sys/utmp.ts";

const FATAL = "utmpset: fatal: ";
const WARNING = "utmpset: warning: ";

/**
 * Run utmpset with its command-line arguments; resolves with the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./utmpset.ts";
 * const code = await main(["-w", "tty5"], { program: "utmpset", argv0: "utmpset" });
 * ```
 */
export async function main(args: string[], context: AppletContext): Promise<number> {
  const showUsage = () => usage(context.argv0, { args: USAGE.utmpset, code: 1 });
  // Quiet first: runit acts on -V as soon as it meets it, before a later bad letter.
  const parsed = getopt(args, "wV", { program: context.program, quiet: true });
  if (parsed.options.some((option) => option.name === "V")) {
    writeErr(`${versionLine()}\n`);
    showUsage();
  }
  if (!parsed.ok) {
    getopt(args, "wV", { program: context.program });
    showUsage();
  }
  const line = parsed.operands[0];
  if (line === undefined) showUsage();
  const bytes = encodeName(line);
  if (bytes.length > UT_SIZE.line) {
    return fail(`${FATAL}unable to logout line ${line} in utmp: name too long`);
  }
  try {
    if (!await logoutUtmp(bytes)) {
      return fail(`${WARNING}unable to logout line ${line} in utmp: no such entry`);
    }
  } catch (error) {
    if (!(error instanceof SysError)) throw error;
    // runit's own wording: a colon after "lock" for utmp, none for wtmp.
    const what = error.operation === "lock" ? "lock: " : "open ";
    return fail(`${FATAL}unable to ${what}${UTMP_PATHS.utmp}: ${errorText(error.errno)}`);
  }
  if (!parsed.options.some((option) => option.name === "w")) return 0;
  try {
    await appendWtmpLogout(bytes);
  } catch (error) {
    if (!(error instanceof SysError)) throw error;
    if (error.operation === "write") {
      return fail(`${WARNING}unable to logout line ${line} in wtmp: ${errorText(error.errno)}`);
    }
    return fail(
      `${FATAL}unable to ${error.operation} ${UTMP_PATHS.wtmp}: ${errorText(error.errno)}`,
    );
  }
  return 0;
}

/** Print a line to stderr; the error exit code. */
function fail(text: string): number {
  writeErr(`${text}\n`);
  return 111;
}
