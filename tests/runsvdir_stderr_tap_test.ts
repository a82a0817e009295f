import { assertEquals } from "./assert.ts";
import { Sandbox } from "./helpers.ts";

const TAP = new URL("../src/runsvdir/stderr_tap.ts", import.meta.url).href;
const REACTOR = new URL("../src/reactor/mod.ts", import.meta.url).href;
const HELPERS = new URL("./helpers.ts", import.meta.url).href;

Deno.test("stderr tap: children's stderr and direct writes reach the listener and stderr", async () => {
  await using sb = await Sandbox.create();
  const source = `import { StderrTap } from "${TAP}";
import { Children, Reactor } from "${REACTOR}";
import { waitUntil } from "${HELPERS}";
const reactor = new Reactor();
const children = new Children();
let heard = "";
const tap = StderrTap.install(reactor, (bytes) => heard += new TextDecoder().decode(bytes));
const running = reactor.run();
await children.run(["/bin/sh", "-c", "echo from-child >&2"], {});
tap.write(new TextEncoder().encode("direct\\n"));
await waitUntil(() => heard.includes("from-child"), { what: "the child's line", interval: 5 });
tap.close();
children.close();
reactor.stop();
await running;
reactor.close();
console.log(JSON.stringify(heard));
`;
  const output = await sb.runDeno(source, [], { permissions: ["--allow-all"] });
  assertEquals(output.code, 0, output.stderr);
  const heard: string = JSON.parse(output.stdout);
  assertEquals(heard.split("\n").sort(), ["", "direct", "from-child"]);
  assertEquals(output.stderr.split("\n").sort(), ["", "direct", "from-child"]);
});
