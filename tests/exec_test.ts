import { assertEquals, assertOk } from "./assert.ts";
import { lowestUninherited, prepareExec } from "../src/sys/mod.ts";
import { bin } from "./helpers.ts";

Deno.test("prepareExec: failures report djb's errno choice", () => {
  assertEquals(prepareExec("/no/such/program", ["x"], { env: [] }).run(), 2);
  assertEquals(
    prepareExec("no-such-program-x", ["x"], { env: [], path: "/bin:/usr/bin" }).run(),
    2,
  );
  // EACCES from a non-executable file is remembered while the search goes on.
  assertEquals(prepareExec("passwd", ["x"], { env: [], path: "/etc:/nonexistent" }).run(), 13);
});

Deno.test("lowestUninherited: our runtime's descriptors are all close-on-exec", () => {
  const fd = lowestUninherited(-1);
  assertOk(fd >= 0);
  assertEquals(lowestUninherited(fd), fd);
});

Deno.test("prepareExec: the process becomes the program (same pid)", async () => {
  const sleeper = new Deno.Command(`${await bin()}/chpst`, {
    args: ["sh", "-c", "echo $$"],
    stdout: "piped",
  }).spawn();
  const output = await sleeper.output();
  assertEquals(new TextDecoder().decode(output.stdout), `${sleeper.pid}\n`);
});
