import { assertEquals } from "./assert.ts";
import { defaultConfig, parseConfig } from "../src/svlog/config.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function parse(text: string) {
  return parseConfig(encoder.encode(text));
}

Deno.test("config: defaults", () => {
  const config = defaultConfig();
  assertEquals(config.sizeMax, 1000000);
  assertEquals(config.countMax, 10);
  assertEquals(config.countMin, 10);
  assertEquals(config.timeMax, 0);
  assertEquals(config.processor, "");
  assertEquals(parse(""), config);
});

Deno.test("config: sizes, counts and ages with their units", () => {
  assertEquals(parse("s100\n").sizeMax, 100);
  assertEquals(parse("s100k\n").sizeMax, 102400);
  assertEquals(parse("s2m\n").sizeMax, 2097152);
  assertEquals(parse("s\n").sizeMax, 0);
  assertEquals(parse("n5\nN2\n").countMax, 5);
  assertEquals(parse("n5\nN2\n").countMin, 2);
  assertEquals(parse("t30\n").timeMax, 30);
  assertEquals(parse("t2m\n").timeMax, 120);
  assertEquals(parse("t1h\n").timeMax, 3600);
  assertEquals(parse("s1\ns7").sizeMax, 7);
});

Deno.test("config: comments, empty lines, and a last one-letter line are ignored", () => {
  const config = parse("# s5\n\nbogus\nn");
  assertEquals(config.sizeMax, 1000000);
  assertEquals(config.countMax, 10);
});

Deno.test("config: processor, prefix and patterns", () => {
  const config = parse("!gzip -c\np> \n+a*\n-b*\neerr*\nEerr: x\n!\np\n");
  assertEquals(config.processor, "gzip -c");
  assertEquals(decoder.decode(config.prefix), "> ");
  assertEquals(
    config.patterns.map((rule) => `${rule.kind}${decoder.decode(rule.pattern)}`),
    ["+a*", "-b*", "eerr*", "Eerr: x"],
  );
});

Deno.test("config: u and U lines", () => {
  assertEquals(parse("u10.0.0.1\n").udp, { address: [10, 0, 0, 1], port: 514 });
  const only = parse("U127.0.0.1:5140\n");
  assertEquals(only.udp, { address: [127, 0, 0, 1], port: 5140 });
  assertEquals(only.udpOnly, true);
  const bad = parse("ufoo\nu1.2.3.4:x\n");
  assertEquals(bad.udp, undefined);
  assertEquals(bad.warnings, [
    "unable to scan ip address: foo",
    "unable to scan port number: x",
  ]);
});
