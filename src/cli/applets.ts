/**
 * The applet table: every program this binary can be, with a one-line
 * description and its module, loaded only when chosen (so `sv` does not pay
 * for compiling `svlogd`).
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

/** One row of the table. */
export interface Applet {
  /** One line for `runit --help`. */
  summary: string;
  /** The usage line (after the program name) for `-h`. */
  usage: string;
  /** Load the applet's module. */
  load: () => Promise<{ main: AppletMain }>;
}

/** Every applet, by name. */
export const APPLETS: Readonly<Record<string, Applet>> = {
  runsv: {
    summary: "supervise one service directory and its log service",
    usage: " dir",
    load: () => import("../runsv.ts"),
  },
  runsvdir: {
    summary: "supervise every service directory of a directory, in one process",
    usage: " [-P] dir [log]",
    load: () => import("../runsvdir.ts"),
  },
  sv: {
    summary: "control and report the state of services supervised by runsv",
    usage: " [-v] [-w sec] command service ...",
    load: () => import("../sv.ts"),
  },
  svlogd: {
    summary: "read log lines from stdin and write them to rotated log directories",
    usage: " [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...",
    load: () => import("../svlogd.ts"),
  },
};

/** This implementation's version line. */
export const VERSION = "runit-deno 0.1.0 (runit 2.3.0 compatible)";
