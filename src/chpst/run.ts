/**
 * The last step of chpst and the daemontools programs: become the program,
 * with the environment changes collected on the way.
 *
 * @module
 */

import { currentEnvironment, execProgram } from "../sys/mod.ts";
import { applyChanges } from "./environment.ts";
import type { EnvChange } from "./envdir.ts";

/**
 * Replace this process with `argv[0]` (searched on PATH when it has no
 * slash), run as `argv` with `argv0` in place of argv[0] when given.
 * Returns the errno only when that failed.
 *
 * @example
 * ```ts
 * import { runProgram } from "./run.ts";
 * const errno = runProgram(["sleep", "1"], { changes: [["A", "1"]] });
 * ```
 */
export function runProgram(
  argv: readonly string[],
  options: { changes?: readonly EnvChange[]; argv0?: string },
): number {
  const args = options.argv0 === undefined ? argv : [options.argv0, ...argv.slice(1)];
  const env = applyChanges(currentEnvironment(), options.changes ?? []);
  return execProgram(argv[0], args, { env, path: Deno.env.get("PATH") });
}
