/**
 * The applet table: every program this binary can be, with a one-line
 * description and its module, loaded only when chosen (so `sv` does not pay
 * for loading `svlogd`). The applets import their types and usage text
 * from program.ts, never this table.
 *
 * @module
 */

import { type AppletMain, USAGE } from "./program.ts";

/** The applet modules, for the type checker only: type imports load nothing at run time. */
interface Modules {
  "../runsv.ts": typeof import("../runsv.ts");
  "../runsvdir.ts": typeof import("../runsvdir.ts");
  "../sv.ts": typeof import("../sv.ts");
  "../svlogd.ts": typeof import("../svlogd.ts");
  "../chpst.ts": typeof import("../chpst.ts");
  "../chpst/daemontools.ts": typeof import("../chpst/daemontools.ts");
  "../runit.ts": typeof import("../runit.ts");
  "../runit_init.ts": typeof import("../runit_init.ts");
  "../runsvchdir.ts": typeof import("../runsvchdir.ts");
  "../utmpset.ts": typeof import("../utmpset.ts");
}

/**
 * The loader of an applet's entry point: export `name` of the module at
 * `path`. The specifier is computed on purpose: Deno reads and analyses
 * every statically known import, dynamic ones included, before a program
 * starts, so a literal `import("../svlogd.ts")` here would make `sv` load
 * svlogd's whole tree too. (`deno compile` includes src/ explicitly.)
 */
function entry<P extends keyof Modules, N extends keyof Modules[P]>(
  path: P,
  name: Modules[P][N] extends AppletMain ? N : never,
): () => Promise<AppletMain> {
  return async () => (await import(new URL(path, import.meta.url).href))[name];
}

/** One row of the table. */
export interface Applet {
  /** One line for `runit --help`. */
  summary: string;
  /** The usage line (after the program name) for `-h`. */
  usage: string;
  /** Load the applet's module; resolves with its entry point. */
  load: () => Promise<AppletMain>;
}

/** Every applet, by name. */
export const APPLETS: Readonly<Record<string, Applet>> = {
  runsv: {
    summary: "supervise one service directory and its log service",
    usage: USAGE.runsv,
    load: entry("../runsv.ts", "main"),
  },
  runsvdir: {
    summary: "supervise every service directory of a directory, in one process",
    usage: USAGE.runsvdir,
    load: entry("../runsvdir.ts", "main"),
  },
  sv: {
    summary: "control and report the state of services supervised by runsv",
    usage: USAGE.sv,
    load: entry("../sv.ts", "main"),
  },
  svlogd: {
    summary: "read log lines from stdin and write them to rotated log directories",
    usage: USAGE.svlogd,
    load: entry("../svlogd.ts", "main"),
  },
  chpst: {
    summary: "change the process state, then run a program in its place",
    usage: USAGE.chpst,
    load: entry("../chpst.ts", "main"),
  },
  envdir: {
    summary: "run a program with the environment a directory's files give",
    usage: USAGE.envdir,
    load: entry("../chpst/daemontools.ts", "envdir"),
  },
  envuidgid: {
    summary: "run a program with $UID and $GID of an account",
    usage: USAGE.envuidgid,
    load: entry("../chpst/daemontools.ts", "envuidgid"),
  },
  pgrphack: {
    summary: "run a program in a new process group",
    usage: USAGE.pgrphack,
    load: entry("../chpst/daemontools.ts", "pgrphack"),
  },
  setuidgid: {
    summary: "run a program as an account",
    usage: USAGE.setuidgid,
    load: entry("../chpst/daemontools.ts", "setuidgid"),
  },
  softlimit: {
    summary: "run a program with lower soft resource limits",
    usage: USAGE.softlimit,
    load: entry("../chpst/daemontools.ts", "softlimit"),
  },
  setlock: {
    summary: "run a program holding a lock on a file",
    usage: USAGE.setlock,
    load: entry("../chpst/daemontools.ts", "setlock"),
  },
  runit: {
    summary: "process 1: boot, run and shut down the system in three stages",
    usage: USAGE.runit,
    load: entry("../runit.ts", "main"),
  },
  "runit-init": {
    summary: "become runit as process 1; otherwise ask it to halt (0) or reboot (6)",
    usage: USAGE.runitInit,
    load: entry("../runit_init.ts", "main"),
  },
  runsvchdir: {
    summary: "point /etc/runit/runsvdir/current at another services directory",
    usage: USAGE.runsvchdir,
    load: entry("../runsvchdir.ts", "main"),
  },
  utmpset: {
    summary: "log a terminal line out of utmp (and with -w, wtmp)",
    usage: USAGE.utmpset,
    load: entry("../utmpset.ts", "main"),
  },
};
