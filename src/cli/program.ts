/**
 * What every applet shares about being a program: how it is called, the
 * version its `-V` shows, and its usage text (the one home of each usage
 * line: the applet table, `-h` and the applets' own usage errors read it
 * here). A leaf module: it imports nothing, so applets and the applet table
 * can both import it without a cycle.
 *
 * @module
 */

/** What an applet is told about how it was called. */
export interface AppletContext {
  /** The name it runs as: the applet name, or for sv's LSB mode the init script's name. */
  program: string;
  /** argv[0] as the user typed it (runit prints it in some usage lines). */
  argv0: string;
}

/** An applet's entry point: resolves with the exit code. */
export type AppletMain = (args: string[], context: AppletContext) => Promise<number>;

/** This implementation's name and version, as `-V` shows it. */
export const VERSION = "runit-deno 0.1.0";

/**
 * runit's version line for `-V` (runit prints `$Id: <commit> $` there; this
 * carries our version instead), without the newline.
 *
 * @example
 * ```ts
 * import { versionLine } from "./program.ts";
 * versionLine(); // "$Id: runit-deno 0.1.0 $"
 * ```
 */
export function versionLine(): string {
  return `$Id: ${VERSION} $`;
}

/**
 * Each applet's usage text, after the program name (`usage: sv` + this).
 * runit's are runit 2.3.0's; the daemontools names are daemontools 0.76's.
 */
export const USAGE = {
  runsv: " dir",
  runsvdir: " [-P] dir",
  sv: " [-v] [-w sec] command service ...",
  /** `sv logs` (this implementation's own command). */
  svLogs: " logs [-f] [-n lines] service ...",
  /** sv called by another name (an LSB init script). */
  svLsb: " [-w sec] command",
  svlogd: " [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...",
  chpst: " [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root]" +
    " [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] prog",
  envdir: " dir child",
  envuidgid: " account child",
  pgrphack: " child",
  setuidgid: " account child",
  softlimit: " [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes]" +
    " [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes]" +
    " [-t cpusecs] child",
  setlock: " [ -nNxX ] file program [ arg ... ]",
  runit: "",
  runitInit: " 0|6",
  runsvchdir: " dir",
  utmpset: " [-w] line",
} as const;
