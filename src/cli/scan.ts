/**
 * djb's scan_ulong, the one number scanner of the applets and of svlogd's
 * config: the leading decimal digits, as C's `unsigned long` (wrapping at
 * 2^64 on Linux x86_64 and aarch64), and how many digits there were. Callers
 * that want the whole text to be a number compare the length with theirs, as
 * runit's `if (optarg[scan_ulong(optarg, &ul)]) usage();` does.
 *
 * @module
 */

/** What {@link scanUlong} found. */
export interface Scanned {
  /** The value, modulo 2^64; 0 when there are no digits. */
  value: bigint;
  /** How many digits were read: 0 when the text does not start with one. */
  length: number;
}

const ULONG_MAX = (1n << 64n) - 1n;

/**
 * Scan the decimal digits at the start of `text` (or from `options.at`), a
 * string or bytes, as djb's scan_ulong does. Only ASCII digits count.
 *
 * @example
 * ```ts
 * import { scanUlong } from "./scan.ts";
 * scanUlong("42s"); // { value: 42n, length: 2 }
 * scanUlong("x"); // { value: 0n, length: 0 }
 * scanUlong(new TextEncoder().encode("s1000"), { at: 1 }); // { value: 1000n, length: 4 }
 * scanUlong("18446744073709551617").value; // 1n (wrapped, as in C)
 * ```
 */
export function scanUlong(text: string | Uint8Array, options: { at?: number } = {}): Scanned {
  const at = options.at ?? 0;
  const bytes = typeof text !== "string";
  let value = 0n;
  let i = at;
  for (; i < text.length; i++) {
    const digit = (bytes ? text[i] : text.charCodeAt(i)) - 0x30;
    if (digit < 0 || digit > 9) break;
    value = (value * 10n + BigInt(digit)) & ULONG_MAX;
  }
  return { value, length: i - at };
}
