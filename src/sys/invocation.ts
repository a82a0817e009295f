/**
 * argv[0] as the process was started with it, read from libc's
 * `program_invocation_name` (Deno only offers it through Node compatibility,
 * which costs every process ~35 ms and ~8 MB to load).
 *
 * @module
 */

import { libc } from "./libc.ts";

/**
 * This process's argv[0], exactly as it was passed to execve.
 *
 * @example
 * ```ts
 * import { invocationName } from "./invocation.ts";
 * invocationName(); // "/opt/runit/bin/sv" (a launcher's `exec -a "$0"`), or "sv"
 * ```
 */
export function invocationName(): string {
  const where = libc().program_invocation_name;
  const text = where === null ? null : new Deno.UnsafePointerView(where).getPointer();
  return text === null ? "" : Deno.UnsafePointerView.getCString(text);
}
