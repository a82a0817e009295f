/**
 * `deno task install --prefix DIR`: DIR/bin/runit plus a symlink per applet.
 * Installs dist/runit when `deno task compile` made one; otherwise a bash
 * launcher that keeps argv[0] (`exec -a`), so dispatch works exactly as in
 * the compiled binary.
 *
 * @module
 */

import { APPLETS } from "../src/cli/applets.ts";
import { MULTICALL } from "../src/cli/dispatch.ts";
import { PERMISSIONS } from "./permissions.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** The applets that get a symlink: the binary itself is runit (as process 1 it runs runit(8)). */
const LINKS = Object.keys(APPLETS).filter((name) => name !== MULTICALL);

/**
 * The launcher script for a checkout at `root`, run by the deno at `deno`.
 *
 * @example
 * ```ts
 * import { launcherScript } from "./install.ts";
 * launcherScript("/opt/src/runit", { deno: "/usr/bin/deno" }).startsWith("#!"); // true
 * ```
 */
export function launcherScript(root: string, options: { deno: string }): string {
  return [
    "#!/usr/bin/env bash",
    "# runit launcher: argv[0] is kept so that the applet is chosen by name.",
    "# Deno raises the soft descriptor limit before any JavaScript runs: the",
    "# original is passed on, so that services get it (read without a fork).",
    "n=",
    'while read -r a b c d _; do [ "$a $b $c" = "Max open files" ] && n=$d; done \\',
    "  2>/dev/null </proc/self/limits",
    `RUNIT_NOFILE_SOFT=$n exec -a "$0" ${options.deno} run ${PERMISSIONS.join(" ")} \\`,
    `  --no-config --cached-only \\`,
    `  --v8-flags=--max-semi-space-size=1 ${root}/main.ts "$@"`,
    "",
  ].join("\n");
}

/**
 * Install into `prefix`; returns the path of the installed binary.
 *
 * @example
 * ```ts
 * import { install } from "./install.ts";
 * await install("/opt/runit", {});
 * ```
 */
export async function install(prefix: string, options: { deno?: string } = {}): Promise<string> {
  const bin = `${prefix}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  const target = `${bin}/${MULTICALL}`;
  await Deno.remove(target).catch(() => {});
  const compiled = `${ROOT}/dist/${MULTICALL}`;
  if (await Deno.stat(compiled).then(() => true, () => false)) {
    await Deno.copyFile(compiled, target);
  } else {
    const script = launcherScript(ROOT, { deno: options.deno ?? Deno.execPath() });
    await Deno.writeTextFile(target, script);
  }
  await Deno.chmod(target, 0o755);
  for (const name of LINKS) {
    const link = `${bin}/${name}`;
    await Deno.remove(link).catch(() => {});
    await Deno.symlink(MULTICALL, link);
  }
  return target;
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--prefix");
  const prefix = at >= 0 ? Deno.args[at + 1] : Deno.args.find((a) => a.startsWith("--prefix="))
    ?.slice("--prefix=".length);
  if (!prefix) {
    console.error("usage: deno task install --prefix DIR");
    Deno.exit(100);
  }
  const installed = await install(prefix);
  console.log(`installed ${installed} and ${LINKS.join(", ")}`);
}
