import assert from "node:assert/strict";
import { patternMatch } from "../src/svlog/pattern.ts";

const encoder = new TextEncoder();

function matches(pattern: string, text: string): boolean {
  return patternMatch(encoder.encode(pattern), encoder.encode(text));
}

Deno.test("pattern: the man page's examples", () => {
  const line = "tcpsvd: info: pid 1977 from 10.4.1.14";
  // The first star stops at the first "p" (in "tcpsvd"); no backtracking.
  assert.equal(matches("*pid*", line), false);
  assert.equal(matches("*: *: pid *", line), true);
});

Deno.test("pattern: literal characters match themselves, whole line only", () => {
  assert.equal(matches("abc", "abc"), true);
  assert.equal(matches("abc", "abcd"), false);
  assert.equal(matches("abcd", "abc"), false);
  assert.equal(matches("", ""), true);
  assert.equal(matches("", "a"), false);
});

Deno.test("pattern: a star at the end matches anything, before a character up to it", () => {
  assert.equal(matches("*", ""), true);
  assert.equal(matches("a*", "abc"), true);
  assert.equal(matches("*c", "abc"), true);
  assert.equal(matches("*c", "abcc"), false);
  assert.equal(matches("*x", "abc"), false);
});

Deno.test("pattern: a plus matches the next character one or more times", () => {
  assert.equal(matches("+ab", "aaab"), true);
  assert.equal(matches("+ab", "ab"), true);
  assert.equal(matches("+ab", "b"), false);
  assert.equal(matches("x+a", "xaaa"), true);
  // runit's matcher succeeds when the text ends inside a plus run.
  assert.equal(matches("+ab", "aaa"), true);
});

Deno.test("pattern: start and end bound the text", () => {
  const text = encoder.encode("xxabcyy");
  assert.equal(patternMatch(encoder.encode("abc"), text, { start: 2, end: 5 }), true);
  assert.equal(patternMatch(encoder.encode("abc"), text, { start: 2 }), false);
});
