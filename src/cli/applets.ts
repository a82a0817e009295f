/**
 * The applet table: every program this binary can be, with a one-line
 * description and its module, loaded only when chosen (so `sv` does not pay
 * for compiling `svlogd`). The applets import their types and usage text
 * from program.ts, never this table.
 *
 * @module
 */

import { type AppletMain, USAGE } from "./program.ts";

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
    usage: USAGE.runsv,
    load: () => import("../runsv.ts"),
  },
  runsvdir: {
    summary: "supervise every service directory of a directory, in one process",
    usage: USAGE.runsvdir,
    load: () => import("../runsvdir.ts"),
  },
  sv: {
    summary: "control and report the state of services supervised by runsv",
    usage: USAGE.sv,
    load: () => import("../sv.ts"),
  },
  svlogd: {
    summary: "read log lines from stdin and write them to rotated log directories",
    usage: USAGE.svlogd,
    load: () => import("../svlogd.ts"),
  },
  chpst: {
    summary: "change the process state, then run a program in its place",
    usage: USAGE.chpst,
    load: () => import("../chpst.ts"),
  },
  envdir: {
    summary: "run a program with the environment a directory's files give",
    usage: USAGE.envdir,
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).envdir }),
  },
  envuidgid: {
    summary: "run a program with $UID and $GID of an account",
    usage: USAGE.envuidgid,
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).envuidgid }),
  },
  pgrphack: {
    summary: "run a program in a new process group",
    usage: USAGE.pgrphack,
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).pgrphack }),
  },
  setuidgid: {
    summary: "run a program as an account",
    usage: USAGE.setuidgid,
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).setuidgid }),
  },
  softlimit: {
    summary: "run a program with lower soft resource limits",
    usage: USAGE.softlimit,
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).softlimit }),
  },
  setlock: {
    summary: "run a program holding a lock on a file",
    usage: USAGE.setlock,
    load: async () => ({ main: (await import("../chpst/daemontools.ts")).setlock }),
  },
};
