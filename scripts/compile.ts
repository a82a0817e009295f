/**
 * `deno task compile`: dist/runit, one self-contained binary, with the same
 * explicit permissions as the launcher. Deno downloads its runtime (denort)
 * for this; where that host is unreachable, set DENORT_BIN=/path/to/denort.
 *
 * @module
 */

import { PERMISSIONS } from "./permissions.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * The `deno compile` arguments.
 *
 * @example
 * ```ts
 * import { compileArgs } from "./compile.ts";
 * compileArgs("/src/runit", {}).includes("--allow-ffi"); // true
 * ```
 */
export function compileArgs(root: string, options: { output?: string } = {}): string[] {
  return [
    "compile",
    ...PERMISSIONS,
    "--no-config",
    "--v8-flags=--max-semi-space-size=1",
    "--include",
    `${root}/src`,
    "--output",
    options.output ?? `${root}/dist/runit`,
    `${root}/main.ts`,
  ];
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--output");
  const output = at >= 0 ? Deno.args[at + 1] : `${ROOT}/dist/runit`;
  await Deno.mkdir(output.slice(0, output.lastIndexOf("/")) || "/", { recursive: true });
  const result = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(ROOT, { output }),
    stdout: "inherit",
    stderr: "piped",
  }).output();
  Deno.stderr.writeSync(result.stderr);
  if (!result.success) {
    const denort = Deno.env.get("DENORT_BIN");
    console.error(
      denort
        ? `compile: fatal: deno compile failed with DENORT_BIN=${denort}`
        : "compile: fatal: deno compile needs Deno's runtime (denort), which it downloads; " +
          "this machine could not get it. Set DENORT_BIN=/path/to/denort (the denort of this " +
          "deno version) and run again.",
    );
    Deno.exit(1);
  }
  console.log(`compiled ${output}`);
}
