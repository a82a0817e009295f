/**
 * `log/supervise/logdirs`: the directories a hosted logger really writes,
 * recorded by the supervisor that hosts it, so that `sv logs` finds them
 * without running `log/run` or asking runsvdir (a `log/run` may compute its
 * directory in shell: nothing short of running it reveals it).
 *
 * The file holds one absolute directory per line (as the kernel names the
 * directory the logger opened), replaced atomically when a logger hands its
 * logging over. It is removed when `log/run` starts, so a logger that ends
 * up logging on its own (Debian's svlogd, a processor in `config`) leaves no
 * stale list; after the logger stops, the list stays, naming where its logs
 * are. runit's tools never read it (Debian's sv ignores unknown files in
 * `supervise/`).
 *
 * @module
 */

import { Errno, errnoOf } from "../sys/errno.ts";
import { replaceFileAt, unlinkAt } from "../sys/fs.ts";

/** The file, relative to the service directory. */
const LOGDIRS_PATH = "log/supervise/logdirs";

const encoder = new TextEncoder();

/**
 * Record `dirs` (absolute paths) as the log directories of the service
 * whose directory is `serviceFd`. Paths with a newline cannot be listed and
 * are left out. Throws SysError when the file cannot be written.
 *
 * @example
 * ```ts ignore
 * import { recordLogDirs } from "./logdirs.ts";
 * recordLogDirs(serviceFd, ["/var/log/web"]);
 * ```
 */
export function recordLogDirs(serviceFd: number, dirs: readonly string[]): void {
  const lines = dirs.filter((dir) => dir.startsWith("/") && !dir.includes("\n"));
  replaceFileAt(serviceFd, LOGDIRS_PATH, encoder.encode(lines.map((dir) => `${dir}\n`).join("")));
}

/**
 * Remove the record (a new `log/run` is starting); absent is fine. Throws
 * SysError for any other failure.
 *
 * @example
 * ```ts ignore
 * import { forgetLogDirs } from "./logdirs.ts";
 * forgetLogDirs(serviceFd);
 * ```
 */
export function forgetLogDirs(serviceFd: number): void {
  try {
    unlinkAt(serviceFd, LOGDIRS_PATH);
  } catch (error) {
    if (errnoOf(error) !== Errno.ENOENT) throw error;
  }
}

/**
 * The recorded log directories of the service in `serviceDir` that are
 * directories now; undefined when there is no record or none of them is.
 *
 * @example
 * ```ts ignore
 * import { recordedLogDirs } from "./logdirs.ts";
 * recordedLogDirs("/etc/service/web"); // ["/var/log/web"]
 * ```
 */
export function recordedLogDirs(serviceDir: string): string[] | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${serviceDir}/${LOGDIRS_PATH}`);
  } catch {
    return undefined;
  }
  const dirs = text.split("\n").filter((line) => {
    if (!line.startsWith("/")) return false;
    try {
      return Deno.statSync(line).isDirectory;
    } catch {
      return false;
    }
  });
  return dirs.length > 0 ? dirs : undefined;
}
