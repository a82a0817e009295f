/**
 * Users, groups and the process's credentials: getpwnam/getgrnam through
 * the C library (so NSS sources count, not only /etc/passwd), and dropping
 * privileges in the one safe order, setgroups, setgid, setuid.
 *
 * @module
 */

import { cstring, errno, libc, setErrno } from "./libc.ts";
import { SysError } from "./errno.ts";

/** The fields of a password entry that chpst uses. */
export interface UserEntry {
  /** Login name. */
  name: string;
  /** User id. */
  uid: number;
  /** Primary group id. */
  gid: number;
}

/** A lookup that found nothing: `errno` is non-zero when the lookup itself failed. */
export interface NotFound {
  /** errno after the call (0 when the name simply does not exist). */
  errno: number;
}

// struct passwd and struct group on LP64 glibc (x86_64, aarch64):
// two char* then uid_t/gid_t at byte 16 (and pw_gid at 20).
const PW_UID = 16;
const PW_GID = 20;
const GR_GID = 16;

/**
 * getpwnam(3): the entry for `name`, or {@link NotFound}.
 *
 * @example
 * ```ts
 * import { userByName } from "./credentials.ts";
 * const root = userByName("root"); // { name: "root", uid: 0, gid: 0 }
 * ```
 */
export function userByName(name: string): UserEntry | NotFound {
  setErrno(0);
  const entry = libc().getpwnam(cstring(name));
  if (entry === null) return { errno: errno() };
  const view = new Deno.UnsafePointerView(entry);
  return { name, uid: view.getUint32(PW_UID), gid: view.getUint32(PW_GID) };
}

/**
 * getgrnam(3): the group id of `name`, or {@link NotFound}.
 *
 * @example
 * ```ts
 * import { groupByName } from "./credentials.ts";
 * groupByName("root"); // 0
 * ```
 */
export function groupByName(name: string): number | NotFound {
  setErrno(0);
  const entry = libc().getgrnam(cstring(name));
  if (entry === null) return { errno: errno() };
  return new Deno.UnsafePointerView(entry).getUint32(GR_GID);
}

/**
 * Become `uid` with primary group `gids[0]` and exactly `gids` as the
 * supplementary groups: setgroups, then setgid, then setuid (each needs the
 * privilege the next one gives up). Throws {@link SysError} naming the step.
 *
 * @example
 * ```ts ignore
 * import { setCredentials } from "./credentials.ts";
 * setCredentials(65534, [65534]);
 * ```
 */
export function setCredentials(uid: number, gids: readonly number[]): void {
  const list = new Uint32Array(gids);
  const c = libc();
  if (c.setgroups(BigInt(list.length), new Uint8Array(list.buffer)) === -1) {
    throw new SysError("setgroups", errno());
  }
  if (c.setgid(gids[0] ?? 0) === -1) throw new SysError("setgid", errno());
  if (c.setuid(uid) === -1) throw new SysError("setuid", errno());
}
