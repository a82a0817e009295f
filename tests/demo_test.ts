import { assertEquals, assertMatch } from "./assert.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("demo: supervises its tree, shows sv status, stops cleanly", async () => {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo", "--seconds", "2"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const output = new TextDecoder().decode(result.stdout);
  assertEquals(result.code, 0, new TextDecoder().decode(result.stderr));
  assertMatch(output, /^run: clock: \(pid \d+\) \d+s; run: log: \(pid \d+\) \d+s$/m);
  assertMatch(output, /^run: worker: \(pid \d+\) \d+s$/m);
  assertMatch(output, /supervisors exited 0(, 0)*; clock logged \d+ lines/);
  const root = /SVDIR=(\S+)\/service/.exec(output)![1];
  let exists = true;
  try {
    Deno.statSync(root);
  } catch {
    exists = false;
  }
  assertEquals(exists, false, "the demo removed its temp directory");
});
