/**
 * The three line stamps of svlogd (`-t`, `-tt`, `-ttt`) and the TAI64N
 * names of rotated files. Every stamp is 25 bytes; the line stamp is followed
 * by a space.
 *
 * @module
 */

import type { Timestamp } from "../sys/mod.ts";
import { TAI64_EPOCH } from "../supervise/status.ts";

/** Which stamp `-t` given once, twice or three times selects (0: none). */
export type StampKind = 0 | 1 | 2 | 3;

/** Length of every stamp, without the trailing space. */
export const STAMP_LENGTH = 25;

const HEX = new TextEncoder().encode("0123456789abcdef");

function putHex(out: Uint8Array, at: number, value: number, digits: number): void {
  for (let i = digits - 1; i >= 0; i--) {
    out[at + i] = HEX[value & 15];
    value = Math.floor(value / 16);
  }
}

function putDecimal(out: Uint8Array, at: number, value: number, digits: number): void {
  for (let i = digits - 1; i >= 0; i--) {
    out[at + i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
}

/**
 * Write the TAI64N label of `time` (`@` and 24 hex digits: TAI seconds, which
 * run 10 s ahead of Unix time in libtai, then nanoseconds) at `out[at]`
 * (default 0).
 *
 * @example
 * ```ts
 * import { putTai64n } from "./timestamp.ts";
 * const out = new Uint8Array(25);
 * putTai64n(out, { sec: 0, nsec: 0 });
 * new TextDecoder().decode(out); // "@400000000000000a00000000"
 * ```
 */
export function putTai64n(out: Uint8Array, time: Timestamp, options: { at?: number } = {}): void {
  const at = options.at ?? 0;
  out[at] = 0x40;
  const label = TAI64_EPOCH + BigInt(time.sec);
  putHex(out, at + 1, Number(label >> 32n), 8);
  putHex(out, at + 9, Number(label & 0xffff_ffffn), 8);
  putHex(out, at + 17, time.nsec, 8);
}

/**
 * Write a UTC stamp `YYYY-MM-DD_HH:MM:SS.xxxxx` (separator `_`) or the
 * ISO 8601 form with `T`, at `out[at]` (default 0).
 *
 * @example
 * ```ts
 * import { putReadable } from "./timestamp.ts";
 * const out = new Uint8Array(25);
 * putReadable(out, { sec: 1134897230, nsec: 976180000 }, { separator: "_" });
 * new TextDecoder().decode(out); // "2005-12-18_09:13:50.97618"
 * ```
 */
export function putReadable(
  out: Uint8Array,
  time: Timestamp,
  options: { separator: "_" | "T"; at?: number },
): void {
  const at = options.at ?? 0;
  const date = new Date(time.sec * 1000);
  putDecimal(out, at, date.getUTCFullYear(), 4);
  out[at + 4] = 0x2d;
  putDecimal(out, at + 5, date.getUTCMonth() + 1, 2);
  out[at + 7] = 0x2d;
  putDecimal(out, at + 8, date.getUTCDate(), 2);
  out[at + 10] = options.separator.charCodeAt(0);
  putDecimal(out, at + 11, date.getUTCHours(), 2);
  out[at + 13] = 0x3a;
  putDecimal(out, at + 14, date.getUTCMinutes(), 2);
  out[at + 16] = 0x3a;
  putDecimal(out, at + 17, date.getUTCSeconds(), 2);
  out[at + 19] = 0x2e;
  putDecimal(out, at + 20, Math.floor(time.nsec / 10000), 5);
}

/**
 * Write the line stamp of `kind` and its trailing space at `out[at]` (default 0);
 * returns the bytes written (26, or 0 for no stamp).
 *
 * @example
 * ```ts
 * import { putStamp } from "./timestamp.ts";
 * const out = new Uint8Array(26);
 * putStamp(out, { kind: 3, time: { sec: 0, nsec: 0 } }); // 26: "1970-01-01T00:00:00.00000 "
 * ```
 */
export function putStamp(
  out: Uint8Array,
  options: { kind: StampKind; time: Timestamp; at?: number },
): number {
  const at = options.at ?? 0;
  switch (options.kind) {
    case 0:
      return 0;
    case 1:
      putTai64n(out, options.time, { at });
      break;
    case 2:
      putReadable(out, options.time, { separator: "_", at });
      break;
    case 3:
      putReadable(out, options.time, { separator: "T", at });
      break;
  }
  out[at + STAMP_LENGTH] = 0x20;
  return STAMP_LENGTH + 1;
}

/**
 * The name a rotated file gets: TAI64N label and `.s` (or `.u` before its
 * processor has run).
 *
 * @example
 * ```ts
 * import { rotatedName } from "./timestamp.ts";
 * rotatedName({ sec: 0, nsec: 0 }, "s"); // "@400000000000000a00000000.s"
 * ```
 */
export function rotatedName(time: Timestamp, suffix: "s" | "u"): string {
  const out = new Uint8Array(STAMP_LENGTH);
  putTai64n(out, time);
  return `${new TextDecoder().decode(out)}.${suffix}`;
}
