/**
 * `deno task compile`: where Deno's runtime can be had (DENORT_BIN, or its
 * download host), the compiled binary is exercised exactly as the launcher
 * is; where it cannot, compiling must fail with a message that says what to do.
 */
import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import { type Output, Sandbox, waitUntil } from "./helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Run `deno task compile` into `output`. */
async function compile(sb: Sandbox, output: string): Promise<Output> {
  return await sb.run(Deno.execPath(), [
    "run",
    "-A",
    `${ROOT}scripts/compile.ts`,
    "--output",
    output,
  ], { timeout: 300_000 });
}

// Compiled once, before the tests are registered: whether Deno's runtime can
// be had here decides whether the binary's test runs or is reported ignored.
const built = await Sandbox.create();
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(built.dir, { recursive: true });
  } catch {
    // Already gone.
  }
});
const binary = `${built.dir}/bin/runit`;
const compiled = await compile(built, binary);
// Only the one failure the script names is a reason to ignore; any other fails the test.
const noRuntime = compiled.code !== 0 && /needs Deno's runtime \(denort\)/.test(compiled.stderr);

Deno.test({
  name: "compile: the single binary dispatches and supervises" +
    (noRuntime ? " (ignored: Deno's runtime, denort, cannot be had here)" : ""),
  ignore: noRuntime,
  async fn() {
    assertEquals(compiled.code, 0, compiled.stderr);
    await using sb = await Sandbox.create();
    await Deno.mkdir(`${sb.dir}/bin`);
    await Deno.copyFile(binary, `${sb.dir}/bin/runit`);
    await Deno.chmod(`${sb.dir}/bin/runit`, 0o755);
    for (const applet of ["sv", "runsv"]) await Deno.symlink("runit", `${sb.dir}/bin/${applet}`);
    const list = await sb.run(`${sb.dir}/bin/runit`, []);
    assertOk(list.stdout.includes("  runsv "), list.stdout);
    const dir = await sb.service("svc", { run: "exec sleep 100" });
    sb.start(`${sb.dir}/bin/runsv`, [dir]);
    await waitUntil(async () => {
      const status = await sb.run(`${sb.dir}/bin/sv`, ["status", dir]);
      return status.stdout.startsWith(`run: ${dir}: (pid `);
    }, { what: "the compiled runsv to run the service" });
    const down = await sb.run(`${sb.dir}/bin/sv`, ["-v", "down", dir]);
    assertMatch(down.stdout, /^ok: down: /);
  },
});

Deno.test("compile: without Deno's runtime, fails with what to do", async () => {
  await using sb = await Sandbox.create();
  // An empty Deno cache and a proxy that refuses: the download cannot succeed.
  await Deno.mkdir(`${sb.dir}/deno-dir`);
  const failed = await sb.run("/usr/bin/env", [
    "-u",
    "DENORT_BIN",
    `DENO_DIR=${sb.dir}/deno-dir`,
    "HTTPS_PROXY=http://127.0.0.1:9",
    "HTTP_PROXY=http://127.0.0.1:9",
    Deno.execPath(),
    "run",
    "-A",
    `${ROOT}scripts/compile.ts`,
    "--output",
    `${sb.dir}/bin/runit`,
  ], { timeout: 300_000 });
  assertEquals(failed.code, 1, failed.stderr);
  assertMatch(failed.stderr, /compile: fatal: .*DENORT_BIN/);
});
