/**
 * The environment a program is started with after envdir/-U changes, built
 * as djb's pathexec_env_run does: the current environment, where each change
 * first removes the variable (the last entry moves into its place) and then,
 * if it has a value, appends `NAME=value`.
 *
 * @module
 */

import type { EnvChange } from "./envdir.ts";

/**
 * Apply `changes` to `base` (`NAME=value` strings) in order.
 *
 * @example
 * ```ts
 * import { applyChanges } from "./environment.ts";
 * applyChanges(["A=1", "B=2", "C=3"], [["A", undefined], ["D", "4"]]);
 * // ["C=3", "B=2", "D=4"]
 * ```
 */
export function applyChanges(base: readonly string[], changes: readonly EnvChange[]): string[] {
  const env = [...base];
  for (const [name, value] of changes) {
    // The name may itself hold "=": the variable is what precedes the first one.
    const entry = value === undefined ? name : `${name}=${value}`;
    const split = entry.indexOf("=");
    const prefix = `${split === -1 ? entry : entry.slice(0, split)}=`;
    const at = env.findIndex((existing) => existing.startsWith(prefix));
    if (at !== -1) {
      const last = env.pop()!;
      if (at < env.length) env[at] = last;
    }
    if (split !== -1) env.push(entry);
  }
  return env;
}
