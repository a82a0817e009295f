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

/**
 * Where the launcher leaves the soft RLIMIT_NOFILE our parent gave us: Deno
 * raises the soft limit to the hard one before any JavaScript runs, and the
 * original cannot be read back afterwards.
 */
export const NOFILE_VARIABLE = "RUNIT_NOFILE_SOFT";

let inherited: ResourceLimit | null | undefined;

/**
 * The RLIMIT_NOFILE our parent gave us, when it is lower than ours now
 * (Deno raised it): `{ soft: original, hard }`. Read once, from
 * {@link NOFILE_VARIABLE}, which is then removed from our environment so
 * that no child inherits a value that may no longer be true for it.
 * Undefined when there is nothing to restore, or the original is not known
 * (a compiled binary started without the launcher).
 *
 * @example
 * ```ts
 * import { inheritedNofile } from "./limits.ts";
 * inheritedNofile()?.soft; // 64n under `ulimit -Sn 64`, through the launcher
 * ```
 */
export function inheritedNofile(): ResourceLimit | undefined {
  if (inherited === undefined) {
    inherited = null;
    let text: string | undefined;
    try {
      text = Deno.env.get(NOFILE_VARIABLE);
      if (text !== undefined) Deno.env.delete(NOFILE_VARIABLE);
    } catch {
      // No permission to read the environment: nothing known.
    }
    const soft = text === "unlimited"
      ? RLIM_INFINITY
      : /^\d+$/.test(text ?? "")
      ? BigInt(text!)
      : -1n;
    if (soft >= 0n) {
      const now = getLimit(RLIMIT.NOFILE);
      if (soft < now.soft) inherited = { soft, hard: now.hard };
    }
  }
  return inherited ?? undefined;
}

/**
 * Call `start` with our soft RLIMIT_NOFILE put back to what our parent gave
 * us, then raise it again: a child started in `start` (posix_spawn, which
 * cannot set limits in the child) inherits the original. posix_spawn returns
 * only after the child has exec'd or failed (CLONE_VFORK), so the child
 * cannot see the raised value, which a prlimit() after the spawn could not
 * promise. The lowered window is the length of the spawn call, on the one
 * JavaScript thread, which opens every descriptor this program opens.
 *
 * @example
 * ```ts ignore
 * import { withInheritedNofile } from "./limits.ts";
 * const pid = withInheritedNofile(() => 0);
 * ```
 */
export function withInheritedNofile<T>(start: () => T): T {
  const original = inheritedNofile();
  if (!original) return start();
  const raised = getLimit(RLIMIT.NOFILE);
  const lower = new Uint8Array(new BigUint64Array([original.soft, raised.hard]).buffer);
  if (libc().setrlimit(RLIMIT.NOFILE, lower) === -1) return start();
  try {
    return start();
  } finally {
    libc().setrlimit(
      RLIMIT.NOFILE,
      new Uint8Array(new BigUint64Array([raised.soft, raised.hard]).buffer),
    );
  }
}

/**
 * Put the soft RLIMIT_NOFILE back to what our parent gave us, for good: just
 * before this process becomes another program (chpst), so that the program
 * gets the limit chpst was given.
 *
 * @example
 * ```ts ignore
 * import { restoreInheritedNofile } from "./limits.ts";
 * restoreInheritedNofile();
 * ```
 */
export function restoreInheritedNofile(): void {
  const original = inheritedNofile();
  if (!original) return;
  libc().setrlimit(
    RLIMIT.NOFILE,
    new Uint8Array(new BigUint64Array([original.soft, original.hard]).buffer),
  );
}
