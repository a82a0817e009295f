/**
 * runsvchdir against Debian's /usr/sbin/runsvchdir: each runs in a mount
 * namespace of its own with a copy of the same temp tree bound over
 * /etc/runit/runsvdir, and the output, exit code and resulting links must
 * be the same. The real /etc/runit/runsvdir is never touched (checked).
 */

import { assertEquals } from "./assert.ts";
import { bin, type Output, Sandbox, testUnless } from "./helpers.ts";
import { namespaceSkipReason, runBound } from "./mount_namespace.ts";

const DEBIAN = "/usr/sbin/runsvchdir";
const SVDIR = "/etc/runit/runsvdir";

function skipReason(): string | undefined {
  return namespaceSkipReason({ oracle: DEBIAN });
}

/** How a tree is laid out: name → "dir", "file", or "-> target" for a symlink. */
type Tree = Record<string, string>;

function build(root: string, tree: Tree): void {
  Deno.mkdirSync(root);
  for (const [name, kind] of Object.entries(tree)) {
    const path = `${root}/${name}`;
    if (kind === "dir") Deno.mkdirSync(path, { recursive: true });
    else if (kind === "file") Deno.writeTextFileSync(path, "");
    else Deno.symlinkSync(kind.slice(3), path);
  }
}

/** The tree under `root` (one level down, as runsvchdir changes it) in {@link Tree} form. */
function snapshot(root: string): Tree {
  const tree: Tree = {};
  for (const entry of Deno.readDirSync(root)) {
    const path = `${root}/${entry.name}`;
    tree[entry.name] = entry.isSymlink
      ? `-> ${Deno.readLinkSync(path)}`
      : entry.isDirectory
      ? "dir"
      : "file";
  }
  return Object.fromEntries(Object.entries(tree).sort());
}

/** The real current link (or undefined), to check that no test changed it. */
function realCurrent(): string | undefined {
  try {
    return Deno.readLinkSync(`${SVDIR}/current`);
  } catch {
    return undefined;
  }
}

const BASE: Tree = {
  default: "dir",
  single: "dir",
  "single/getty-5": "dir",
  file: "file",
  current: `-> ${SVDIR}/default`,
};

/**
 * Run ours and Debian's with `args`, each on its own copy of `tree`; the
 * outputs (Debian's program path replaced by ours) and the resulting trees.
 */
async function both(
  sb: Sandbox,
  tree: Tree,
  args: string[],
): Promise<{ ours: [Output, Tree]; theirs: [Output, Tree] }> {
  const program = `${await bin()}/runsvchdir`;
  const run = async (which: string, command: string) => {
    const root = `${sb.dir}/${which}-${crypto.randomUUID()}`;
    build(root, tree);
    const output = await runBound(sb, [{ source: root, target: SVDIR }], [command, ...args]);
    return [output, snapshot(root)] as [Output, Tree];
  };
  const [ours, theirs] = await Promise.all([run("ours", program), run("theirs", DEBIAN)]);
  theirs[0].stderr = theirs[0].stderr.replaceAll(DEBIAN, program);
  return { ours, theirs };
}

/** Assert ours and Debian's agree; returns the common result. */
async function same(sb: Sandbox, tree: Tree, args: string[]): Promise<[Output, Tree]> {
  const { ours, theirs } = await both(sb, tree, args);
  assertEquals(ours, theirs, `runsvchdir ${args.join(" ")}`);
  return ours;
}

testUnless("runsvchdir: switches current and previous as Debian's does", skipReason, async () => {
  const before = realCurrent();
  await using sb = await Sandbox.create();
  const [out, tree] = await same(sb, BASE, ["single"]);
  assertEquals(out, { code: 0, stdout: "runsvchdir: single: now current.\n", stderr: "" });
  assertEquals(tree.current, "-> single");
  // The old link itself is moved: its text is kept.
  assertEquals(tree.previous, `-> ${SVDIR}/default`);
  // An absolute name is linked as given.
  const [, absolute] = await same(sb, BASE, [`${SVDIR}/single`]);
  assertEquals(absolute.current, `-> ${SVDIR}/single`);
  // A stale current.new and an old previous are replaced.
  const [, stale] = await same(sb, { ...BASE, "current.new": "-> nowhere", previous: "-> x" }, [
    "single",
  ]);
  assertEquals([stale.current, stale.previous, stale["current.new"]], [
    "-> single",
    `-> ${SVDIR}/default`,
    undefined,
  ]);
  // A current that is a real directory becomes previous.
  const [, real] = await same(sb, { ...BASE, current: "dir" }, ["single"]);
  assertEquals([real.current, real.previous], ["-> single", "dir"]);
  // A link to a directory is a directory.
  await same(sb, { ...BASE, alias: "-> single" }, ["alias"]);
  // Extra arguments are ignored.
  await same(sb, BASE, ["single", "extra"]);
  assertEquals(realCurrent(), before);
});

testUnless(
  "runsvchdir: the current directory again is reported, nothing changes",
  skipReason,
  async () => {
    await using sb = await Sandbox.create();
    const [out, tree] = await same(sb, BASE, ["default"]);
    assertEquals(out, { code: 0, stdout: "runsvchdir: default: current.\n", stderr: "" });
    assertEquals(tree, snapshotOf(BASE));
    // Same directory by another name: same inode, so current too.
    await same(sb, BASE, [`${SVDIR}/default`]);
  },
);

/** {@link BASE} as {@link snapshot} reports it (top-level names only). */
function snapshotOf(tree: Tree): Tree {
  return Object.fromEntries(Object.entries(tree).filter(([name]) => !name.includes("/")).sort());
}

testUnless("runsvchdir: usage and errors as Debian's, links untouched", skipReason, async () => {
  const before = realCurrent();
  await using sb = await Sandbox.create();
  const program = `${await bin()}/runsvchdir`;
  const cases: [Tree, string[], string][] = [
    [BASE, [], `usage: ${program} dir\n\n`],
    [BASE, [".hidden"], `${program}: fatal: .hidden: must not start with a dot.\n`],
    [BASE, ["nope"], `${program}: fatal: nope: file does not exist\n`],
    [BASE, [""], `${program}: fatal: : file does not exist\n`],
    // runit takes no options: -V is a directory name.
    [BASE, ["-V"], `${program}: fatal: -V: file does not exist\n`],
    [BASE, ["file"], `${program}: fatal: filenot a directory.\n`],
    [
      { ...BASE, dangling: "-> nowhere" },
      ["dangling"],
      `${program}: fatal: dangling: file does not exist\n`,
    ],
    [
      { default: "dir", single: "dir" },
      ["single"],
      `${program}: fatal: unable to stat: current: file does not exist\n`,
    ],
    [
      { ...BASE, "current.new": "dir" },
      ["single"],
      `${program}: fatal: unable to unlink: current.new: is a directory\n`,
    ],
    [
      { ...BASE, previous: "dir", "previous/x": "dir" },
      ["single"],
      `${program}: fatal: unable to unlink: previous: is a directory\n`,
    ],
  ];
  for (const [tree, args, stderr] of cases) {
    const [out] = await same(sb, tree, args);
    assertEquals(out.stderr, stderr, `runsvchdir ${args.join(" ")}`);
    assertEquals(out.code, args.length === 0 ? 1 : 111);
    assertEquals(out.stdout, "");
  }
  assertEquals(realCurrent(), before);
});

// runit 2.3.0's $RUNSVDIR (Debian's 2.1.2 has no such variable): no namespace needed.
Deno.test("runsvchdir: $RUNSVDIR names the directory to work in", async () => {
  await using sb = await Sandbox.create();
  const program = `${await bin()}/runsvchdir`;
  const root = `${sb.dir}/svdir`;
  build(root, { ...BASE, current: "-> default" });
  const env = { RUNSVDIR: root };
  const switched = await sb.run(program, ["single"], { env });
  assertEquals(switched, { code: 0, stdout: "runsvchdir: single: now current.\n", stderr: "" });
  assertEquals([snapshot(root).current, snapshot(root).previous], ["-> single", "-> default"]);
  const back = await sb.run(program, ["default"], { env });
  assertEquals(back.code, 0);
  assertEquals([snapshot(root).current, snapshot(root).previous], ["-> default", "-> single"]);
  const missing = await sb.run(program, ["single"], { env: { RUNSVDIR: `${sb.dir}/none` } });
  assertEquals(missing, {
    code: 111,
    stdout: "",
    stderr: `${program}: fatal: unable to chdir: ${sb.dir}/none: file does not exist\n`,
  });
});
