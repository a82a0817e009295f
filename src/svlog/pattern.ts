/**
 * runit's pattern matcher for svlogd's `+ - e E` config lines: not a regular
 * expression. A star matches up to (not including) the first occurrence of
 * the next pattern character, or everything when it ends the pattern; a plus
 * matches the next pattern character one or more times. There is no
 * backtracking, which is why `*pid*` does not match "tcpsvd: ... pid 1".
 *
 * @module
 */

/**
 * Whether `pattern` matches `text[start, end)` (bytes), as runit's pmatch.
 *
 * @example
 * ```ts
 * import { patternMatch } from "./pattern.ts";
 * const enc = new TextEncoder();
 * const line = enc.encode("tcpsvd: info: pid 1977 from 10.4.1.14");
 * patternMatch(enc.encode("*: *: pid *"), line); // true
 * patternMatch(enc.encode("*pid*"), line); // false
 * ```
 */
export function patternMatch(
  pattern: Uint8Array,
  text: Uint8Array,
  options: { start?: number; end?: number } = {},
): boolean {
  let s = options.start ?? 0;
  const end = options.end ?? text.length;
  let p = 0;
  for (;;) {
    if (p >= pattern.length) return s >= end;
    const c = pattern[p++];
    if (c === 0x2a) { // '*'
      if (p >= pattern.length) return true;
      const next = pattern[p];
      for (;;) {
        if (s >= end) return false;
        if (text[s] === next) break;
        s++;
      }
      continue;
    }
    if (c === 0x2b) { // '+'
      // An exhausted message or a plus ending the pattern compare with
      // runit's NUL terminators, which never equal a message byte here.
      const next = p < pattern.length ? pattern[p++] : 0;
      if (s >= end || text[s] !== next) return false;
      for (;;) {
        if (s >= end) return true;
        if (text[s] !== next) break;
        s++;
      }
      continue;
    }
    if (s >= end || text[s] !== c) return false;
    s++;
  }
}
