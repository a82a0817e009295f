import { assertEquals } from "./assert.ts";
import { patternMatch } from "../src/svlog/pattern.ts";

const encoder = new TextEncoder();

function matches(pattern: string, text: string): boolean {
  return patternMatch(encoder.encode(pattern), encoder.encode(text));
}

Deno.test("pattern: the man page's examples", () => {
  const line = "tcpsvd: info: pid 1977 from 10.4.1.14";
  // The first star stops at the first "p" (in "tcpsvd"); no backtracking.
  assertEquals(matches("*pid*", line), false);
  assertEquals(matches("*: *: pid *", line), true);
});

Deno.test("pattern: literal characters match themselves, whole line only", () => {
  assertEquals(matches("abc", "abc"), true);
  assertEquals(matches("abc", "abcd"), false);
  assertEquals(matches("abcd", "abc"), false);
  assertEquals(matches("", ""), true);
  assertEquals(matches("", "a"), false);
});

Deno.test("pattern: a star at the end matches anything, before a character up to it", () => {
  assertEquals(matches("*", ""), true);
  assertEquals(matches("a*", "abc"), true);
  assertEquals(matches("*c", "abc"), true);
  assertEquals(matches("*c", "abcc"), false);
  assertEquals(matches("*x", "abc"), false);
});

Deno.test("pattern: a plus matches the next character one or more times", () => {
  assertEquals(matches("+ab", "aaab"), true);
  assertEquals(matches("+ab", "ab"), true);
  assertEquals(matches("+ab", "b"), false);
  assertEquals(matches("x+a", "xaaa"), true);
  // runit's matcher succeeds when the text ends inside a plus run.
  assertEquals(matches("+ab", "aaa"), true);
});

Deno.test("pattern: start and end bound the text", () => {
  const text = encoder.encode("xxabcyy");
  assertEquals(patternMatch(encoder.encode("abc"), text, { start: 2, end: 5 }), true);
  assertEquals(patternMatch(encoder.encode("abc"), text, { start: 2 }), false);
});
