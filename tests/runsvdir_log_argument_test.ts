import { assertEquals } from "./assert.ts";
import { Sandbox } from "./helpers.ts";

const MODULE = new URL("../src/runsvdir/log_argument.ts", import.meta.url).href;
const SYS = new URL("../src/sys/mod.ts", import.meta.url).href;

Deno.test("log argument: prefix kept, newest bytes right-aligned, dots fade in", async () => {
  await using sb = await Sandbox.create();
  const source = `import { LogArgument } from "${MODULE}";
import { AT_FDCWD, readFileAt } from "${SYS}";
const log = LogArgument.open(Deno.args, 0)!;
const shown = () => new TextDecoder().decode(readFileAt(AT_FDCWD, "/proc/self/cmdline", 65536))
  .split("\\0").at(-2);
const seen = [shown()];
log.append(new TextEncoder().encode("abc"));
seen.push(shown());
log.append(new TextEncoder().encode("0123456789xyz"));
seen.push(shown());
log.fade();
seen.push(shown(), log.text);
console.log(JSON.stringify(seen));
log.close();
`;
  const output = await sb.runDeno(source, ["log: .........."]);
  assertEquals(output.code, 0, output.stderr);
  assertEquals(JSON.parse(output.stdout), [
    "log: ..........",
    "log: .......abc",
    "log: 3456789xyz",
    "log: 456789xyz.",
    "456789xyz.",
  ]);
});
