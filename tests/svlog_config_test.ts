import assert from "node:assert/strict";
import { defaultConfig, parseConfig } from "../src/svlog/config.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function parse(text: string) {
  return parseConfig(encoder.encode(text));
}

Deno.test("config: defaults", () => {
  const config = defaultConfig();
  assert.equal(config.sizeMax, 1000000);
  assert.equal(config.countMax, 10);
  assert.equal(config.countMin, 10);
  assert.equal(config.timeMax, 0);
  assert.equal(config.processor, "");
  assert.deepEqual(parse(""), config);
});

Deno.test("config: sizes, counts and ages with their units", () => {
  assert.equal(parse("s100\n").sizeMax, 100);
  assert.equal(parse("s100k\n").sizeMax, 102400);
  assert.equal(parse("s2m\n").sizeMax, 2097152);
  assert.equal(parse("s\n").sizeMax, 0);
  assert.equal(parse("n5\nN2\n").countMax, 5);
  assert.equal(parse("n5\nN2\n").countMin, 2);
  assert.equal(parse("t30\n").timeMax, 30);
  assert.equal(parse("t2m\n").timeMax, 120);
  assert.equal(parse("t1h\n").timeMax, 3600);
  assert.equal(parse("s1\ns7").sizeMax, 7);
});

Deno.test("config: comments, empty lines, and a last one-letter line are ignored", () => {
  const config = parse("# s5\n\nbogus\nn");
  assert.equal(config.sizeMax, 1000000);
  assert.equal(config.countMax, 10);
});

Deno.test("config: processor, prefix and patterns", () => {
  const config = parse("!gzip -c\np> \n+a*\n-b*\neerr*\nEerr: x\n!\np\n");
  assert.equal(config.processor, "gzip -c");
  assert.equal(decoder.decode(config.prefix), "> ");
  assert.deepEqual(
    config.patterns.map((rule) => `${rule.kind}${decoder.decode(rule.pattern)}`),
    ["+a*", "-b*", "eerr*", "Eerr: x"],
  );
});

Deno.test("config: u and U lines", () => {
  assert.deepEqual(parse("u10.0.0.1\n").udp, { address: [10, 0, 0, 1], port: 514 });
  const only = parse("U127.0.0.1:5140\n");
  assert.deepEqual(only.udp, { address: [127, 0, 0, 1], port: 5140 });
  assert.equal(only.udpOnly, true);
  const bad = parse("ufoo\nu1.2.3.4:x\n");
  assert.equal(bad.udp, undefined);
  assert.deepEqual(bad.warnings, [
    "unable to scan ip address: foo",
    "unable to scan port number: x",
  ]);
});
