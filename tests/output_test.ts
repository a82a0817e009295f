import { assertEquals } from "./assert.ts";
import { Sandbox } from "./helpers.ts";

const OUTPUT = new URL("../src/cli/output.ts", import.meta.url).href;

Deno.test("output: writeOut and writeErr write everything, past a pipe's capacity", async () => {
  await using sb = await Sandbox.create();
  // 256 KiB is four pipe buffers: the reader must drain while the writer loops.
  const source = `import { writeErr, writeOut } from "${OUTPUT}";
const line = "0123456789abcdef".repeat(4) + "\\n";
writeOut(line.repeat(4096));
writeErr(new TextEncoder().encode(line.repeat(4096)));
writeErr("text too\\n");
`;
  const output = await sb.runDeno(source, []);
  assertEquals(output.code, 0, output.stderr);
  const line = "0123456789abcdef".repeat(4) + "\n";
  assertEquals(output.stdout.length, line.length * 4096);
  assertEquals(output.stdout, line.repeat(4096));
  assertEquals(output.stderr, line.repeat(4096) + "text too\n");
});

Deno.test("output: writeErr to a closed stderr is not an error", async () => {
  await using sb = await Sandbox.create();
  const source = `import { writeErr, writeOut } from "${OUTPUT}";
import { closeFd } from "${new URL("../src/sys/mod.ts", import.meta.url).href}";
closeFd(2, { strict: true });
writeErr("lost\\n");
writeOut("still here\\n");
`;
  const output = await sb.runDeno(source, []);
  assertEquals(output.code, 0, output.stderr);
  assertEquals(output.stdout, "still here\n");
  assertEquals(output.stderr, "");
});
