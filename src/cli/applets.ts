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
  chpst: {
    summary: "change the process state, then run a program in its place",
    usage:
      " [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] prog",
    load: () => import("../chpst.ts"),
  },
  envdir: {
    summary: "run a program with the environment a directory's files give",
    usage: " dir child",
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).envdir }),
  },
  envuidgid: {
    summary: "run a program with $UID and $GID of an account",
    usage: " account child",
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).envuidgid }),
  },
  pgrphack: {
    summary: "run a program in a new process group",
    usage: " child",
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).pgrphack }),
  },
  setuidgid: {
    summary: "run a program as an account",
    usage: " account child",
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).setuidgid }),
  },
  softlimit: {
    summary: "run a program with lower soft resource limits",
    usage:
      " [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child",
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).softlimit }),
  },
  setlock: {
    summary: "run a program holding a lock on a file",
    usage: " [ -nNxX ] file program [ arg ... ]",
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).setlock }),
  },
};

/** This implementation's version line. */
export const VERSION = "runit-deno 0.1.0 (runit 2.3.0 compatible)";
