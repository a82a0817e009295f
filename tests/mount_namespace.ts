/**
 * Running a command in a mount namespace of its own with temp files bound
 * over system paths, so that a test can let ours and Debian's programs
 * change "/etc/runit/runsvdir" or "/var/run/utmp" while the real ones stay
 * untouched. The namespace ends with the command.
 *
 * @module
 */

import { exists, hasSysAdmin, type Output, type Sandbox, type Started } from "./helpers.ts";

/** A bind mount: `source` (a temp path) shown at `target`. */
export interface Bind {
  source: string;
  target: string;
  /** Make the bound path read-only inside the namespace. */
  readOnly?: boolean;
}

/**
 * Why namespace tests cannot run here, or undefined when they can. `oracle`:
 * a program of Debian's runit the tests compare with, which must be installed.
 *
 * @example
 * ```ts ignore
 * import { namespaceSkipReason } from "./mount_namespace.ts";
 * Deno.test({ name: "x", ignore: namespaceSkipReason() !== undefined, fn() {} });
 * const reason = () => namespaceSkipReason({ oracle: "/usr/sbin/utmpset" });
 * ```
 */
export function namespaceSkipReason(options: { oracle?: string } = {}): string | undefined {
  if (options.oracle !== undefined && !exists(options.oracle)) {
    const name = options.oracle.slice(options.oracle.lastIndexOf("/") + 1);
    return `Debian's ${name} (package runit, the oracle) is not installed`;
  }
  if (!hasSysAdmin()) return "unshare --mount needs root with CAP_SYS_ADMIN";
  if (!exists("/usr/bin/unshare")) return "unshare (util-linux) is not installed";
  return undefined;
}

/** sh: bind each (source, target) pair, remount the read-only ones, then become the command. */
const SCRIPT = [
  "n=$1; shift",
  'while [ "$n" -gt 0 ]; do',
  '  mount --bind "$1" "$2" || exit 125',
  '  [ "$3" = ro ] && { mount -o remount,bind,ro "$2" || exit 125; }',
  "  shift 3; n=$((n - 1))",
  "done",
  'exec "$@"',
].join("\n");

function unshareArgs(binds: readonly Bind[], command: readonly string[]): string[] {
  const pairs = binds.flatMap((bind) => [bind.source, bind.target, bind.readOnly ? "ro" : "rw"]);
  return ["--mount", "sh", "-c", SCRIPT, "sh", String(binds.length), ...pairs, ...command];
}

/**
 * Run `command` to completion in a new mount namespace with `binds` in place.
 * Exit code 125 means a mount failed.
 *
 * @example
 * ```ts ignore
 * import { runBound } from "./mount_namespace.ts";
 * await runBound(sb, [{ source: dir, target: "/etc/runit/runsvdir" }], ["ls", "/etc/runit/runsvdir"]);
 * ```
 */
export function runBound(
  sb: Sandbox,
  binds: readonly Bind[],
  command: readonly string[],
  options: { env?: Record<string, string> } = {},
): Promise<Output> {
  return sb.run("unshare", unshareArgs(binds, command), { cwd: "/", env: options.env });
}

/**
 * Start `command` in a new mount namespace with `binds` in place; the
 * sandbox stops it. The started pid becomes the command (sh and unshare exec).
 *
 * @example
 * ```ts ignore
 * import { startBound } from "./mount_namespace.ts";
 * const started = startBound(sb, binds, ["/usr/sbin/utmpset", "tty5"]);
 * ```
 */
export function startBound(
  sb: Sandbox,
  binds: readonly Bind[],
  command: readonly string[],
): Started {
  return sb.start("unshare", unshareArgs(binds, command), { cwd: "/", stdout: "piped" });
}
