/**
 * Reading an environment directory, daemontools' envdir rules, shared by
 * `chpst -e` and `envdir`: one variable per file not starting with a dot;
 * its first line, trailing spaces and tabs removed, NUL bytes turned into
 * newlines; an empty file removes the variable.
 *
 * @module
 */

import { Errno, errnoOf } from "../sys/mod.ts";

/** A variable to set (`value` given) or remove (`value` undefined). */
export type EnvChange = readonly [name: string, value: string | undefined];

/** Which step of reading the directory failed. */
export type EnvDirStep = "list" | "read";

/** Reading the directory failed: `step`, the file `name` (for "read") and errno. */
export class EnvDirError extends Error {
  /** The failed step: listing the directory, or reading one file. */
  readonly step: EnvDirStep;
  /** The file being read, for step "read". */
  readonly file: string;
  /** The errno. */
  readonly errno: number;

  /**
   * @example
   * ```ts
   * import { EnvDirError } from "./envdir.ts";
   * new EnvDirError("list", { file: "", errno: 2 });
   * ```
   */
  constructor(step: EnvDirStep, options: { file: string; errno: number }) {
    super(`envdir ${step} ${options.file}: errno ${options.errno}`);
    this.name = "EnvDirError";
    this.step = step;
    this.file = options.file;
    this.errno = options.errno;
  }
}

const NEWLINE = 10;
const decoder = new TextDecoder();

/**
 * The value a file's content gives, as bytes: up to the first newline,
 * trailing blanks removed, NULs made newlines. Empty content gives an empty
 * array (meaning: remove the variable).
 *
 * @example
 * ```ts
 * import { envValue } from "./envdir.ts";
 * new TextDecoder().decode(envValue(new TextEncoder().encode("a\0b \t\nrest"))); // "a\nb"
 * ```
 */
export function envValue(content: Uint8Array): Uint8Array {
  let end = content.indexOf(NEWLINE);
  if (end === -1) end = content.length;
  while (end > 0 && (content[end - 1] === 0x20 || content[end - 1] === 0x09)) end--;
  const value = content.slice(0, end);
  for (let i = 0; i < value.length; i++) if (value[i] === 0) value[i] = NEWLINE;
  return value;
}

/**
 * The changes the directory `dir` asks for, in directory order. Throws
 * {@link EnvDirError}. A subdirectory is an error, unless `onDirectory` is
 * given: then it is told (name and errno) and the entry skipped. A file
 * that vanished (or a dangling symlink) reuses the previous file's
 * buffer, as daemontools' openreadclose leaves it untouched.
 *
 * @example
 * ```ts ignore
 * import { readEnvDir } from "./envdir.ts";
 * const changes = readEnvDir("/etc/sv/web/env", {});
 * ```
 */
export function readEnvDir(
  dir: string,
  options: { onDirectory?: (file: string, errno: number) => void },
): EnvChange[] {
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)].map((entry) => entry.name);
  } catch (error) {
    throw new EnvDirError("list", { file: "", errno: errnoOf(error) });
  }
  const changes: EnvChange[] = [];
  let previous: Uint8Array = new Uint8Array(0);
  for (const name of names) {
    if (name.startsWith(".")) continue;
    let content: Uint8Array;
    try {
      content = Deno.readFileSync(`${dir}/${name}`);
    } catch (error) {
      const code = errnoOf(error);
      if (code === Errno.ENOENT) {
        content = previous;
      } else if (code === Errno.EISDIR && options.onDirectory) {
        options.onDirectory(name, code);
        continue;
      } else {
        throw new EnvDirError("read", { file: name, errno: code });
      }
    }
    if (content.length === 0) {
      previous = content;
      changes.push([name, undefined]);
      continue;
    }
    const value = envValue(content);
    previous = new Uint8Array([...value, 0]);
    changes.push([name, decoder.decode(value)]);
  }
  return changes;
}
