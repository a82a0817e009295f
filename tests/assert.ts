/**
 * std-style assertion names over node:assert/strict (jsr:@std/assert is
 * unreachable from our machines).
 *
 * @module
 */

import assert from "node:assert/strict";

/** Deep, strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

/** Truthiness. */
export function assertOk(value: unknown, message?: string): asserts value {
  assert.ok(value, message);
}

/** `fn` throws an instance of `type`. */
export function assertThrows(fn: () => unknown, type?: new (...args: any[]) => Error): void {
  if (type) assert.throws(fn, type);
  else assert.throws(fn);
}

/** `text` matches `pattern`. */
export function assertMatch(text: string, pattern: RegExp, message?: string): void {
  assert.match(text, pattern, message);
}
