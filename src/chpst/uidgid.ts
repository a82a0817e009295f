/**
 * runit's `[:]user[:group[:group…]]` account syntax for `chpst -u/-U`:
 * names resolved through the C library, or with a leading colon numbers
 * (`:uid:gid[:gid…]`, an empty number meaning 0).
 *
 * @module
 */

import { scanUlong } from "../cli/scan.ts";
import { groupByName, userByName } from "../sys/mod.ts";

/** A resolved account: the uid and the groups, primary group first. */
export interface Account {
  /** User id. */
  uid: number;
  /** Group ids; the first is the primary group. */
  gids: number[];
}

/** Why an account could not be resolved, with runit's wording. */
export type AccountFailure =
  | { kind: "invalid"; text: string }
  | { kind: "unknown"; text: string }
  | { kind: "lookup"; errno: number };

const MAX_GROUPS = 60;

/** A whole id: digits only (none means 0), cut to 32 bits as runit's uid_t/gid_t copy is. */
function wholeNumber(text: string): number | undefined {
  const { value, length } = scanUlong(text);
  return length === text.length ? Number(BigInt.asUintN(32, value)) : undefined;
}

function numeric(spec: string): Account | AccountFailure {
  const invalid: AccountFailure = { kind: "invalid", text: spec };
  const at = spec.indexOf(":");
  if (at === -1) return invalid;
  const uid = wholeNumber(spec.slice(0, at));
  if (uid === undefined) return invalid;
  const gids: number[] = [];
  for (const part of spec.slice(at + 1).split(":").slice(0, MAX_GROUPS)) {
    const gid = wholeNumber(part);
    if (gid === undefined) return invalid;
    gids.push(gid);
  }
  return { uid, gids };
}

/**
 * Resolve a `chpst -u`/`-U` argument.
 *
 * @example
 * ```ts
 * import { resolveAccount } from "./uidgid.ts";
 * resolveAccount(":65534:65534"); // { uid: 65534, gids: [65534] }
 * resolveAccount("nobody:nogroup"); // { uid: 65534, gids: [65534] } on Debian
 * ```
 */
export function resolveAccount(spec: string): Account | AccountFailure {
  if (spec.startsWith(":")) return numeric(spec.slice(1));
  const colon = spec.indexOf(":");
  const user = userByName(colon === -1 ? spec : spec.slice(0, colon));
  if (!("uid" in user)) {
    return user.errno ? { kind: "lookup", errno: user.errno } : { kind: "unknown", text: spec };
  }
  if (colon === -1) return { uid: user.uid, gids: [user.gid] };
  const gids: number[] = [];
  for (const name of spec.slice(colon + 1).split(":").slice(0, MAX_GROUPS)) {
    const gid = groupByName(name);
    if (typeof gid !== "number") {
      return gid.errno ? { kind: "lookup", errno: gid.errno } : { kind: "unknown", text: spec };
    }
    gids.push(gid);
  }
  return { uid: user.uid, gids };
}
