import { assertEquals } from "./assert.ts";
import { Sandbox } from "./helpers.ts";

const MODULE = new URL("../src/runsvdir/proctitle.ts", import.meta.url).href;
const SYS = new URL("../src/sys/mod.ts", import.meta.url).href;

Deno.test("proctitle: an argument rewritten in place is what /proc/PID/cmdline shows", async () => {
  await using sb = await Sandbox.create();
  // Deno refuses /proc/self to its file API; the libc layer reads it.
  const source = `import { ArgumentBytes } from "${MODULE}";
import { AT_FDCWD, readFileAt } from "${SYS}";
const arg = ArgumentBytes.locate(Deno.args, 1)!;
arg.write(5, new TextEncoder().encode("hello, this is far too long"));
const missing = ArgumentBytes.locate(["not", "mine"], 1);
const cmdline = new TextDecoder().decode(readFileAt(AT_FDCWD, "/proc/self/cmdline", 65536));
console.log(JSON.stringify({ length: arg.length, missing: missing === undefined, cmdline }));
arg.close();
`;
  const output = await sb.runDeno(source, ["dir", "log: ..............", "after"]);
  assertEquals(output.code, 0, output.stderr);
  const { length, missing, cmdline } = JSON.parse(output.stdout);
  assertEquals(length, 19);
  assertEquals(missing, true);
  // Clipped to the argument's own bytes; its neighbours are untouched.
  assertEquals(cmdline.split("\0").slice(-4), ["dir", "log: hello, this is", "after", ""]);
});
