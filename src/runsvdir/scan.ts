/**
 * One look at a service directory, as runsvdir's scan: every entry whose
 * name does not start with a dot and that is (or links to) a directory,
 * identified by device and inode so that a rename or a second symlink is
 * recognised as the same service.
 *
 * @module
 */

import { AT_FDCWD, DT, Errno, errnoOf, errorText, listDir, S, statAt } from "../sys/mod.ts";

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
    // Names are bytes: one that is not UTF-8 is a service like any other.
    names = [];
    for (const entry of listDir(AT_FDCWD, dir)) {
      names.push(entry.name);
      if (entry.name.startsWith(".")) continue;
      if (entry.type === DT.LNK || (entry.type === DT.UNKNOWN && isLink(`${dir}/${entry.name}`))) {
        links = true;
      }
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

function isLink(path: string): boolean {
  try {
    return ((statAt(AT_FDCWD, path, { followLinks: false })?.mode ?? 0) & S.IFMT) === S.IFLNK;
  } catch {
    return false;
  }
}

function textOf(error: unknown): string {
  return errorText(errnoOf(error));
}

/** How a service directory looks right now, to tell whether it is still changing. */
export interface EntryShape {
  /** Names, identities, sizes, modes and change times of the parts watched. */
  print: string;
  /** Whether the directory is there at all (it may have moved away since the scan). */
  exists: boolean;
  /** Whether `./run` exists (through symlinks). */
  hasRun: boolean;
}

/**
 * Look at the service directory `path`: the directory itself, every entry
 * directly in it and in its `log/` (names, identities, sizes, modes, change
 * times), and whether `run` exists. Two equal prints taken a while apart
 * mean nothing was created, removed, written or chmod-ed there in between
 * (deeper levels, such as `env/`, are not looked at).
 *
 * @example
 * ```ts
 * import { entryShape } from "./scan.ts";
 * const before = entryShape("/etc/service/web");
 * const settled = before.hasRun && entryShape("/etc/service/web").print === before.print;
 * ```
 */
export function entryShape(path: string): EntryShape {
  const top = describe(path, { follow: true });
  const parts = [top, ...listing(path, "."), ...listing(`${path}/log`, "log")];
  const hasRun = describe(`${path}/run`, { follow: true }) !== "-";
  return { print: parts.join("\n"), exists: top !== "-", hasRun };
}

/** Each entry of `dir` with {@link describe}'s marks, by name; one line when it cannot be read. */
function listing(dir: string, label: string): string[] {
  let names: string[];
  try {
    names = listDir(AT_FDCWD, dir).map((entry) => entry.name).sort();
  } catch (error) {
    return [errnoOf(error) === Errno.ENOENT ? `${label} -` : `${label} ! ${textOf(error)}`];
  }
  return names.map((name) => `${label}/${name} ${describe(`${dir}/${name}`, { follow: false })}`);
}

/** One file's identity and change marks, "-" when it does not exist. */
function describe(path: string, options: { follow: boolean }): string {
  try {
    const stat = statAt(AT_FDCWD, path, { followLinks: options.follow });
    if (!stat) return "-";
    const { ino, mode, nlink, size, mtimeSec, mtimeNsec, ctimeSec, ctimeNsec } = stat;
    return `${ino} ${mode} ${nlink} ${size} ${mtimeSec}.${mtimeNsec} ${ctimeSec}.${ctimeNsec}`;
  } catch (error) {
    return `! ${textOf(error)}`;
  }
}
