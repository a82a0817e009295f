/**
 * Multicall dispatch: which applet argv[0] names, following the symlink
 * chain one hop at a time when the name itself is not an applet (so that
 * `/etc/init.d/web -> /usr/bin/sv -> /opt/runit/bin/runit` runs sv in its LSB
 * mode for the service `web`, as runit's sv does).
 *
 * @module
 */

import { APPLETS } from "./applets.ts";
import { AT_FDCWD, readLinkAt } from "../sys/fs.ts";

/** The multicall binary's own name. */
export const MULTICALL = "runit";

/** What to run. */
export type Invocation =
  | { kind: "applet"; applet: string; program: string; argv0: string; args: string[] }
  | { kind: "list" }
  | { kind: "unknown"; name: string };

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

function dirName(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? (at === 0 ? "/" : ".") : path.slice(0, at);
}

/**
 * Where a shell's PATH lookup in `dirs` finds a bare command name (an
 * executable file), or undefined.
 *
 * @example
 * ```ts
 * import { findOnPath } from "./dispatch.ts";
 * findOnPath("sh", ["/usr/bin", "/bin"]); // "/usr/bin/sh" where it is there
 * ```
 */
export function findOnPath(name: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const candidate = `${dir || "."}/${name}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * argv[0] as the user typed it. A launcher script only sees the path that
 * the shell's PATH lookup produced (`/opt/runit/bin/runsv` for `runsv`), so
 * when argv[0] is exactly what a PATH lookup of its base name gives, the
 * base name is what was typed.
 *
 * @example
 * ```ts
 * import { typedName } from "./dispatch.ts";
 * typedName("/opt/runit/bin/runsv", { path: "/opt/runit/bin:/usr/bin" }); // "runsv" if installed there
 * typedName("./runsv", { path: "/usr/bin" }); // "./runsv"
 * ```
 */
export function typedName(argv0: string, options: { path?: string } = {}): string {
  if (!argv0.includes("/")) return argv0;
  const base = baseName(argv0);
  const dirs = (options.path ?? Deno.env.get("PATH") ?? "").split(":");
  // Only the directories before argv0's own can hide it: stat just those (a failed stat costs).
  const at = dirs.findIndex((dir) => `${dir || "."}/${base}` === argv0);
  if (at === -1) return argv0;
  return findOnPath(base, dirs.slice(0, at)) === undefined ? base : argv0;
}

/**
 * The applet a path names, following symlinks one hop at a time: the first
 * base name met that is an applet, or "runit" for the multicall name.
 *
 * @example
 * ```ts
 * import { appletOfPath } from "./dispatch.ts";
 * appletOfPath("/usr/local/bin/sv", { readLink: () => undefined }); // "sv"
 * ```
 */
export function appletOfPath(
  argv0: string,
  options: { readLink?: (path: string) => string | undefined; path?: string } = {},
): string | undefined {
  const readLink = options.readLink ?? ((path: string) => readLinkAt(AT_FDCWD, path));
  let current: string | undefined = argv0.includes("/")
    ? argv0
    : findOnPath(argv0, (options.path ?? Deno.env.get("PATH") ?? "").split(":"));
  const first = baseName(argv0);
  if (first in APPLETS || first === MULTICALL) return first;
  for (let hop = 0; current !== undefined && hop < 40; hop++) {
    let target: string | undefined;
    try {
      target = readLink(current);
    } catch {
      return undefined;
    }
    if (target === undefined) return undefined;
    current = target.startsWith("/") ? target : `${dirName(current)}/${target}`;
    const name = baseName(current);
    if (name in APPLETS || name === MULTICALL) return name;
  }
  return undefined;
}

/**
 * Decide what to run for this argv[0] and these arguments. A name that
 * leads to no applet is treated as the multicall binary itself (as when run
 * through `deno run main.ts`). The multicall name as process 1 (`pid`,
 * default ours) is runit(8).
 *
 * @example
 * ```ts
 * import { resolveInvocation } from "./dispatch.ts";
 * resolveInvocation("runit", ["sv", "status", "web"]);
 * // { kind: "applet", applet: "sv", program: "sv", argv0: "sv", args: ["status", "web"] }
 * ```
 */
export function resolveInvocation(
  argv0: string,
  args: readonly string[],
  options: { readLink?: (path: string) => string | undefined; path?: string; pid?: number } = {},
): Invocation {
  const applet = appletOfPath(argv0, options);
  // The binary itself started by the kernel (init=/opt/runit/bin/runit) is runit(8).
  const asInit = applet === MULTICALL && (options.pid ?? Deno.pid) === 1;
  if (applet !== undefined && (applet !== MULTICALL || asInit)) {
    const typed = typedName(argv0, options);
    return { kind: "applet", applet, program: baseName(argv0), argv0: typed, args: [...args] };
  }
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h") return { kind: "list" };
  if (!(name in APPLETS)) return { kind: "unknown", name };
  return { kind: "applet", applet: name, program: name, argv0: name, args: rest };
}
