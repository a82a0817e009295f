/**
 * The wall clock with nanoseconds. A module of its own because `sv status`
 * needs it on its start path and nothing else of the process calls.
 *
 * @module
 */

import { libc } from "./libc.ts";

/** A point in time: Unix seconds and nanoseconds. */
export interface Timestamp {
  /** Seconds since the Unix epoch. */
  sec: number;
  /** Nanoseconds within the second. */
  nsec: number;
}

/**
 * The wall clock with nanoseconds (clock_gettime(CLOCK_REALTIME)).
 *
 * @example
 * ```ts
 * import { now } from "./clock.ts";
 * now().sec > 0; // true
 * ```
 */
export function now(): Timestamp {
  const timespec = new BigInt64Array(2);
  libc().clock_gettime(0, new Uint8Array(timespec.buffer));
  return { sec: Number(timespec[0]), nsec: Number(timespec[1]) };
}
