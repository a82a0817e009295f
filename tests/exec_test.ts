import { assertEquals } from "./assert.ts";
import { prepareExec } from "../src/sys/mod.ts";
import { bin, Sandbox } from "./helpers.ts";

Deno.test("prepareExec: failures report djb's errno choice", () => {
  assertEquals(prepareExec("/no/such/program", ["x"], { env: [] }).run(), 2);
  assertEquals(
    prepareExec("no-such-program-x", ["x"], { env: [], path: "/bin:/usr/bin" }).run(),
    2,
  );
  // EACCES from a non-executable file is remembered while the search goes on.
  assertEquals(prepareExec("passwd", ["x"], { env: [], path: "/etc:/nonexistent" }).run(), 13);
});

const EXEC = new URL("../src/sys/exec.ts", import.meta.url).href;

Deno.test("lowestUninherited: our runtime's descriptors are all close-on-exec", async () => {
  await using sb = await Sandbox.create();
  const script = `${sb.dir}/lowest.ts`;
  await Deno.writeTextFile(
    script,
    `import { lowestUninherited } from "${EXEC}";
console.log(lowestUninherited(-1), lowestUninherited(4));`,
  );
  // The child Deno inherits 0, 1, 2 and whatever the shell opens first;
  // every descriptor the runtime opens itself must be close-on-exec.
  const lowest = async (redirections: string) => {
    const run = `${redirections} exec "$0" run --allow-read --allow-ffi "$1"`;
    const result = await sb.run("/bin/sh", ["-c", run, Deno.execPath(), script]);
    assertEquals(result.code, 0, result.stderr);
    return result.stdout;
  };
  // Second figure: with 4 counted as free (`except`), whatever holds it.
  assertEquals(await lowest(""), "3 3\n");
  assertEquals(await lowest("exec 3</dev/null 4</dev/null;"), "5 4\n");
  // A gap: 3 is the runtime's (close-on-exec) or free, 4 is inherited.
  assertEquals(await lowest("exec 4</dev/null;"), "3 3\n");
  assertEquals(await lowest("exec 3</dev/null;"), "4 4\n");
});

Deno.test("prepareExec: the process becomes the program (same pid)", async () => {
  const sleeper = new Deno.Command(`${await bin()}/chpst`, {
    args: ["sh", "-c", "echo $$"],
    stdout: "piped",
  }).spawn();
  const output = await sleeper.output();
  assertEquals(new TextDecoder().decode(output.stdout), `${sleeper.pid}\n`);
});
