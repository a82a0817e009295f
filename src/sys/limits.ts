/**
 * Resource limits (getrlimit/setrlimit) and the nice value.
 *
 * @module
 */

import { errno, libc, setErrno } from "./libc.ts";
import { SysError } from "./errno.ts";

/** Linux resource numbers (x86_64 and aarch64 agree on these). */
export const RLIMIT = {
  CPU: 0,
  FSIZE: 1,
  DATA: 2,
  STACK: 3,
  CORE: 4,
  RSS: 5,
  NPROC: 6,
  NOFILE: 7,
  MEMLOCK: 8,
  AS: 9,
} as const;

/** RLIM_INFINITY. */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/** A soft and a hard limit. */
export interface ResourceLimit {
  /** The soft (current) limit. */
  soft: bigint;
  /** The hard (maximum) limit. */
  hard: bigint;
}

/**
 * getrlimit(2); throws {@link SysError} ("getrlimit()").
 *
 * @example
 * ```ts
 * import { getLimit, RLIMIT } from "./limits.ts";
 * getLimit(RLIMIT.NOFILE).soft > 0n; // true
 * ```
 */
export function getLimit(resource: number): ResourceLimit {
  const buffer = new BigUint64Array(2);
  if (libc().getrlimit(resource, new Uint8Array(buffer.buffer)) === -1) {
    throw new SysError("getrlimit()", errno());
  }
  return { soft: buffer[0], hard: buffer[1] };
}

/**
 * Get ready to set several limits: the buffers are built now, so that the
 * returned function allocates nothing (a tight data or address-space limit
 * would otherwise stop the runtime itself). It sets them in order and
 * throws {@link SysError} ("setrlimit()") at the first failure.
 *
 * @example
 * ```ts ignore
 * import { getLimit, prepareLimits, RLIMIT } from "./limits.ts";
 * const { hard } = getLimit(RLIMIT.NOFILE);
 * const apply = prepareLimits([[RLIMIT.NOFILE, { soft: 64n, hard }]]);
 * apply();
 * ```
 */
export function prepareLimits(
  limits: ReadonlyArray<readonly [resource: number, limit: ResourceLimit]>,
): () => void {
  const resources = limits.map(([resource]) => resource);
  const buffers = limits.map(([, { soft, hard }]) =>
    new Uint8Array(new BigUint64Array([soft, hard]).buffer)
  );
  // Bound now: binding a symbol compiles code, memory the limits may deny.
  const setrlimit = libc().setrlimit;
  void libc().__errno_location;
  return () => {
    for (let index = 0; index < buffers.length; index++) {
      if (setrlimit(resources[index], buffers[index]) === -1) {
        throw new SysError("setrlimit()", errno());
      }
    }
  };
}

/**
 * nice(2): add `increment` to the nice value; throws {@link SysError}
 * ("set nice level") only when errno says it failed (-1 is a valid result).
 *
 * @example
 * ```ts ignore
 * import { adjustNice } from "./limits.ts";
 * adjustNice(5);
 * ```
 */
export function adjustNice(increment: number): void {
  setErrno(0);
  if (libc().nice(increment) === -1) {
    const code = errno();
    if (code !== 0) throw new SysError("set nice level", code);
  }
}
