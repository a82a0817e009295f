/**
 * The last step of chpst and the daemontools programs: become the program,
 * with the environment changes collected on the way.
 *
 * @module
 */

import {
  currentEnvironment,
  defaultSignalsForExec,
  type PreparedExec,
  prepareExec,
  restoreInheritedNofile,
} from "../sys/mod.ts";
import { applyChanges } from "./environment.ts";
import type { EnvChange } from "./envdir.ts";

/**
 * Get ready to replace this process with `argv[0]` (searched on PATH when
 * it has no slash), run as `argv` with `argv0` in place of argv[0] when
 * given, in this environment changed by `changes`. `run()` returns the
 * errno only when that failed. SIGPIPE goes back to its default now, and
 * the descriptor limit to the one our parent gave us (Deno raised it); limits
 * set after this call (chpst -o) still win.
 *
 * @example
 * ```ts ignore
 * import { programFor } from "./run.ts";
 * const errno = programFor(["sleep", "1"], { changes: [["A", "1"]] }).run();
 * ```
 */
export function programFor(
  argv: readonly string[],
  options: { changes?: readonly EnvChange[]; argv0?: string },
): PreparedExec {
  const args = options.argv0 === undefined ? argv : [options.argv0, ...argv.slice(1)];
  // Also takes the launcher's note of our parent's limit out of the environment.
  restoreInheritedNofile();
  const env = applyChanges(currentEnvironment(), options.changes ?? []);
  defaultSignalsForExec();
  return prepareExec(argv[0], args, { env, path: Deno.env.get("PATH") });
}
