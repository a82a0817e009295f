/**
 * Reading /proc/PID from tests run with `deno task test`'s permissions:
 * without --allow-all Deno refuses every /proc/PID path, so a small `cat`
 * reads it instead.
 *
 * @module
 */

import type { Sandbox } from "./helpers.ts";

/** The text of /proc/PID/FILE, or undefined when the process is gone. */
export async function procFile(
  sb: Sandbox,
  pid: number,
  file: string,
): Promise<string | undefined> {
  const { code, stdout } = await sb.run("cat", [`/proc/${pid}/${file}`]);
  return code === 0 ? stdout : undefined;
}

/** True while `pid` exists and is not a zombie. */
export async function running(sb: Sandbox, pid: number): Promise<boolean> {
  const stat = await procFile(sb, pid, "stat");
  return stat !== undefined && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}
