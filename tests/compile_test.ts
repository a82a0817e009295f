/**
 * `deno task compile`: where Deno's runtime can be had (DENORT_BIN, or its
 * download host), the compiled binary is exercised exactly as the launcher
 * is; where it cannot, compiling must fail with a message that says what to do.
 */
import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import { Sandbox, waitUntil } from "./helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("compile: the single binary dispatches and supervises, or fails clearly", async () => {
  await using sb = await Sandbox.create();
  const binary = `${sb.dir}/bin/runit`;
  const compiled = await sb.run(Deno.execPath(), [
    "run",
    "-A",
    `${ROOT}scripts/compile.ts`,
    "--output",
    binary,
  ]);
  if (compiled.code !== 0) {
    assertEquals(compiled.code, 1);
    assertMatch(compiled.stderr, /compile: fatal: .*DENORT_BIN/);
    console.log(
      "compile: compiled binary not exercised: Deno's runtime (denort) is unavailable here " +
        `(DENORT_BIN=${Deno.env.get("DENORT_BIN") ?? "unset"}); the failure message was checked`,
    );
    return;
  }
  for (const applet of ["sv", "runsv"]) await Deno.symlink("runit", `${sb.dir}/bin/${applet}`);
  const list = await sb.run(binary, []);
  assertOk(list.stdout.includes("  runsv "), list.stdout);
  const dir = await sb.service("svc", { run: "exec sleep 100" });
  sb.start(`${sb.dir}/bin/runsv`, [dir]);
  await waitUntil(async () => {
    const status = await sb.run(`${sb.dir}/bin/sv`, ["status", dir]);
    return status.stdout.startsWith(`run: ${dir}: (pid `);
  }, { what: "the compiled runsv to run the service" });
  const down = await sb.run(`${sb.dir}/bin/sv`, ["-v", "down", dir]);
  assertMatch(down.stdout, /^ok: down: /);
});
