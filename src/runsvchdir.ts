/**
 * runsvchdir(8): switch runsvdir's services directory. In
 * /etc/runit/runsvdir/ (or $RUNSVDIR, as runit 2.3.0 allows), `current`
 * becomes a symlink to the given directory and the old `current` becomes
 * `previous`. The steps, messages and exit codes are runit 2.3.0's: the new
 * link is made as `current.new`, `current` is renamed to `previous`, then
 * `current.new` to `current` (so `current` may be a real directory, which
 * then becomes `previous`). Usage exits 1, errors 111.
 *
 * @module
 */

import { usage, writeErr, writeOut } from "./cli/output.ts";
import { type AppletContext, USAGE } from "./cli/program.ts";
import { AT_FDCWD, changeDir, renameAt, S, statAt, unlinkAt } from "./sys/fs.ts";
import { Errno, errnoOf, errorText } from "./sys/errno.ts";

/** runit's fixed working directory; $RUNSVDIR overrides it. */
const RUNSVDIR = "/etc/runit/runsvdir";

/** A failed step: runit's message (without the program name) and its errno, if any. */
class Fatal extends Error {
  constructor(readonly text: string, readonly code?: number) {
    super(text);
  }
}

/**
 * Run runsvchdir with its command-line arguments; resolves with the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./runsvchdir.ts";
 * const code = await main(["single"], { program: "runsvchdir", argv0: "runsvchdir" });
 * ```
 */
export function main(args: string[], context: AppletContext): Promise<number> {
  const dir = args[0];
  // runit takes no options: anything, "-V" included, is the directory.
  if (dir === undefined) usage(context.argv0, { args: USAGE.runsvchdir, code: 1 });
  try {
    const base = Deno.env.get("RUNSVDIR") ?? RUNSVDIR;
    return Promise.resolve(change(dir, { base, program: context.argv0 }));
  } catch (error) {
    if (!(error instanceof Fatal)) throw error;
    const reason = error.code === undefined ? "" : `: ${errorText(error.code)}`;
    writeErr(`${context.argv0}: fatal: ${error.text}${reason}\n`);
    return Promise.resolve(111);
  }
}

/** The steps; throws {@link Fatal} with runit's message. */
function change(dir: string, options: { base: string; program: string }): number {
  const { base, program } = options;
  if (dir.startsWith(".")) throw new Fatal(`${dir}: must not start with a dot.`);
  attempt(() => changeDir(base), `unable to chdir: ${base}`);
  // An empty name is no file (statAt would take it for the directory itself).
  const target = dir === ""
    ? undefined
    : attempt(() => statAt(AT_FDCWD, dir), `unable to stat: ${dir}`);
  if (target === undefined) throw new Fatal(dir, Errno.ENOENT);
  // runit's message has no separator here.
  if ((target.mode & S.IFMT) !== S.IFDIR) throw new Fatal(`${dir}not a directory.`);
  const current = attempt(() => statAt(AT_FDCWD, "current"), "unable to stat: current");
  if (current === undefined) throw new Fatal("unable to stat: current", Errno.ENOENT);
  if (current.ino === target.ino && current.dev === target.dev) {
    writeOut(`runsvchdir: ${dir}: current.\n`);
    return 0;
  }
  unlinkIfThere("current.new");
  attempt(() => Deno.symlinkSync(dir, "current.new"), `unable to create: current.new -> ${dir}`);
  unlinkIfThere("previous");
  attempt(() => renameAt(AT_FDCWD, "current", "previous"), "unable to copy: current to previous");
  try {
    renameAt(AT_FDCWD, "current.new", "current");
  } catch (error) {
    // runit warns (with "fatal" in the line), puts the old current back, and fails.
    writeErr(
      `${program}: fatal: unable to move: current.new to current: ${errorText(errnoOf(error))}\n`,
    );
    attempt(
      () => renameAt(AT_FDCWD, "previous", "current"),
      "unable to move previous back to current",
    );
    return 111;
  }
  writeOut(`runsvchdir: ${dir}: now current.\n`);
  return 0;
}

/** `step()`, or {@link Fatal} with `text` and the errno of its failure. */
function attempt<T>(step: () => T, text: string): T {
  try {
    return step();
  } catch (error) {
    throw new Fatal(text, errnoOf(error));
  }
}

/** unlink(2), where a missing name is fine. */
function unlinkIfThere(name: string): void {
  try {
    unlinkAt(AT_FDCWD, name);
  } catch (error) {
    if (errnoOf(error) !== Errno.ENOENT) {
      throw new Fatal(`unable to unlink: ${name}`, errnoOf(error));
    }
  }
}
