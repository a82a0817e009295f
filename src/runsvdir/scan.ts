/**
 * One look at a service directory, as runsvdir's scan: every entry whose
 * name does not start with a dot and that is (or links to) a directory,
 * identified by device and inode so that a rename or a second symlink is
 * recognised as the same service.
 *
 * @module
 */

import { AT_FDCWD, Errno, errnoOf, errorText, S, statAt } from "../sys/mod.ts";

/** A service directory found by a scan. */
export interface ServiceEntry {
  /** The entry's name in the scanned directory. */
  name: string;
  /** `dev:ino` of the directory it is or points to. */
  key: string;
}

/** What a scan found. */
export interface ScanResult {
  /** Service directories, first name (in directory order) per `key`. */
  entries: ServiceEntry[];
  /** runsvdir's warnings, without the `runsvdir DIR: warning: ` prefix. */
  warnings: string[];
  /** Whether any entry is a symlink (its target may change unseen). */
  links: boolean;
  /** Set when the directory could not be read: the warning to give. */
  failed?: string;
}

/**
 * Scan `dir`. When it cannot be read at all, `failed` says why, and the
 * caller leaves every supervised service as it is, as runit does.
 *
 * @example
 * ```ts ignore
 * import { scanServices } from "./scan.ts";
 * const found = scanServices("/etc/service");
 * found?.entries.map((entry) => entry.name);
 * ```
 */
export function scanServices(dir: string): ScanResult {
  const entries: ServiceEntry[] = [];
  const warnings: string[] = [];
  const seen = new Set<string>();
  let names: string[];
  let links = false;
  try {
    names = [];
    for (const entry of Deno.readDirSync(dir)) {
      names.push(entry.name);
      if (entry.isSymlink && !entry.name.startsWith(".")) links = true;
    }
  } catch (error) {
    const failed = `unable to open directory ${dir}: ${textOf(error)}`;
    return { entries, warnings, links, failed };
  }
  for (const name of names) {
    if (name.startsWith(".")) continue;
    let stat;
    try {
      stat = statAt(AT_FDCWD, `${dir}/${name}`);
    } catch (error) {
      warnings.push(`unable to stat ${name}: ${textOf(error)}`);
      continue;
    }
    if (stat === undefined) {
      warnings.push(`unable to stat ${name}: ${errorText(Errno.ENOENT)}`);
      continue;
    }
    if ((stat.mode & S.IFMT) !== S.IFDIR) continue;
    const key = `${stat.dev}:${stat.ino}`;
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push({ name, key });
  }
  return { entries, warnings, links };
}

function textOf(error: unknown): string {
  return errorText(errnoOf(error));
}
