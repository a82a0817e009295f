/**
 * runit 2.3.0's own checks (src/*.check with their expected src/*.dist, run
 * by its check-local with the programs first on PATH), reproduced: the same
 * invocations through a shell whose PATH finds ours first, with runit's
 * expected output. Where Debian's runit 2.1.2 gives the same output, the
 * same invocation is run with its binaries too and compared. runit's
 * scripts wait with `sleep`; here each step waits for its condition.
 */
import { assertEquals, assertOk } from "./assert.ts";
import { bin, hasDebianRunit, readText, Sandbox, waitUntil, within } from "./helpers.ts";
import { USAGE, versionLine } from "../src/cli/program.ts";

const decoder = new TextDecoder();
const NO_DEBIAN = !hasDebianRunit();

/** Whose programs a PATH lookup finds first. */
type Who = "ours" | "debian";

async function pathFor(who: Who): Promise<string> {
  return who === "ours" ? `${await bin()}:/usr/bin:/bin` : "/usr/bin:/bin";
}

/**
 * Run a shell script as check-local does: an empty environment but PATH
 * (and `ctmp`), stderr merged into stdout.
 */
async function shell(
  script: string,
  options: { who: Who; cwd: string; stdin?: "null" | "piped" },
): Promise<string> {
  const output = await new Deno.Command("/bin/sh", {
    args: ["-c", `exec 2>&1\n${script}`],
    cwd: options.cwd,
    clearEnv: true,
    env: { PATH: await pathFor(options.who), ctmp: `${options.cwd}/check-tmp` },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return decoder.decode(output.stdout);
}

/** runit prints `$Id: <commit> $`; only its content differs between builds. */
function normalizeId(text: string): string {
  return text.replace(/^\$Id: .* \$$/gm, "$Id: X $");
}

/** The five checks' first lines: usage without arguments, then -V. */
const USAGE_CHECKS: Array<{ name: string; script: string; expected: string }> = [
  { name: "runsv", script: "runsv\necho $?", expected: `usage: runsv${USAGE.runsv}\n\n1\n` },
  {
    name: "sv",
    script: "sv\necho $?\nsv -V\necho $?",
    expected: `usage: sv${USAGE.sv}\n\n100\n$Id: X $\nusage: sv${USAGE.sv}\n\n100\n`,
  },
  {
    name: "svlogd",
    script: "svlogd\necho $?\nsvlogd -V\necho $?",
    expected:
      `usage: svlogd${USAGE.svlogd}\n\n111\n$Id: X $\nusage: svlogd${USAGE.svlogd}\n\n111\n`,
  },
  {
    name: "chpst",
    script: "chpst\necho $?\nchpst -V\necho $?",
    expected: `usage: chpst${USAGE.chpst}\n\n100\n$Id: X $\nusage: chpst${USAGE.chpst}\n\n100\n`,
  },
  { name: "runsvdir", script: "runsvdir\necho $?", expected: `usage: runsvdir [-P] dir\n\n1\n` },
];

for (const { name, script, expected } of USAGE_CHECKS) {
  for (const who of ["ours", "debian"] as const) {
    Deno.test({
      name: `runit checks: ${name}.check usage and -V (${who})`,
      ignore: who === "debian" && NO_DEBIAN,
      async fn() {
        await using sb = await Sandbox.create();
        const output = normalizeId(await shell(script, { who, cwd: sb.dir }));
        // Debian's 2.1.2 chpst predates 2.3.0's -C; otherwise the same text.
        assertEquals(output, who === "ours" ? expected : expected.replaceAll(" [-C pwd]", ""));
      },
    });
  }
}

Deno.test("runit checks: -V prints the version line to stderr, first, with our version", async () => {
  await using sb = await Sandbox.create();
  const dir = await bin();
  const codes: Record<string, number> = { sv: 100, svlogd: 111, chpst: 100, runsv: 1, runsvdir: 1 };
  for (const [name, code] of Object.entries(codes)) {
    const result = await sb.run(`${dir}/${name}`, ["-V"]);
    assertEquals(result.stdout, "");
    assertEquals(result.code, code, name);
    const usageText = USAGE[name as keyof typeof USAGE];
    // sv and chpst name themselves by argv[0]'s base name; the others by argv[0] itself.
    const shown = name === "sv" || name === "chpst" ? name : `${dir}/${name}`;
    assertEquals(result.stderr, `${versionLine()}\nusage: ${shown}${usageText}\n\n`);
  }
  assertEquals(versionLine(), "$Id: runit-deno 0.1.0 $");
  // Not only as the first argument: runit's getopt meets it anywhere among the options.
  const late = await sb.run(`${dir}/sv`, ["-v", "-V", "status", "x"]);
  assertEquals([late.code, late.stderr.split("\n")[0]], [100, versionLine()]);
  // -h stays ours: usage on stdout, exit 0.
  const help = await sb.run(`${dir}/runsv`, ["-h"]);
  assertEquals([help.code, help.stdout.split("\n")[0]], [0, `usage: runsv${USAGE.runsv}`]);
});

for (const who of ["ours", "debian"] as const) {
  Deno.test({
    name: `runit checks: argv[0] as typed (${who}): PATH lookup, full path, relative path`,
    ignore: who === "debian" && NO_DEBIAN,
    async fn() {
      await using sb = await Sandbox.create();
      const dir = who === "ours" ? await bin() : "/usr/bin";
      const typed = await shell("runsv; svlogd", { who, cwd: sb.dir });
      assertEquals(typed, `usage: runsv dir\n\nusage: svlogd${USAGE.svlogd}\n\n`);
      // A path typed in full, not what PATH gives: shown as typed.
      const full = await shell(`${dir}/runsv; cd ${dir} && ./runsv`, {
        who: "debian",
        cwd: sb.dir,
      });
      assertEquals(full, `usage: ${dir}/runsv dir\n\nusage: ./runsv dir\n\n`);
    },
  });
}

/** Start `runsv DIR` through the shell's PATH, its output appended to `out`. */
function startRunsv(sb: Sandbox, options: { who: Who; path: string; dir: string; out: string }) {
  return sb.start(
    "/bin/sh",
    ["-c", 'exec runsv "$1" >>"$2" 2>&1', "sh", options.dir, options.out],
    {
      env: { PATH: options.path },
    },
  );
}

/**
 * runit's check service in `check-tmp`: its run says "starting" and sleeps;
 * `out` is for runsv's output, `path` finds `who`'s programs first.
 */
async function checkService(sb: Sandbox, who: Who) {
  const path = await pathFor(who);
  const ctmp = `${sb.dir}/check-tmp`;
  const out = `${sb.dir}/out`;
  await Deno.mkdir(ctmp);
  await writeScript(`${ctmp}/run`, ["echo starting", "exec sleep 14"]);
  return { path, ctmp, out };
}

async function writeScript(path: string, lines: string[]): Promise<void> {
  await Deno.writeTextFile(path, `#!/bin/sh\n${lines.join("\n")}\n`, { mode: 0o700 });
}

function runningStat(path: string): boolean {
  return readText(path) === "run\n";
}

for (const who of ["ours", "debian"] as const) {
  Deno.test({
    name: `runit checks: runsv.check (${who}): control/t, control/i, log, supervise symlinks`,
    ignore: who === "debian" && NO_DEBIAN,
    async fn() {
      await using sb = await Sandbox.create();
      const { path, ctmp, out } = await checkService(sb, who);
      const control = (letter: string, at = "supervise") =>
        Deno.writeTextFile(`${ctmp}/${at}/control`, letter);

      // control/t replaces the TERM: it says "term" and exits 1, so runsv sends TERM itself.
      let runsv = startRunsv(sb, { who, path, dir: ctmp, out });
      await waitUntil(() => runningStat(`${ctmp}/supervise/stat`), { what: "run" });
      assertEquals(readText(`${ctmp}/supervise/stat`), "run\n");
      await Deno.mkdir(`${ctmp}/control`);
      await writeScript(`${ctmp}/control/t`, ["echo term", "exit 1"]);
      await control("t");
      await waitUntil(() => readText(out) === "starting\nterm\nstarting\n", {
        what: "the service restarted after t",
      });
      await control("x");
      assertEquals((await runsv.done).code, 0);
      assertEquals(readText(out), "starting\nterm\nstarting\nterm\n");

      // With a log service: control/i's output goes to the log, as the service's does.
      await Deno.mkdir(`${ctmp}/log`);
      await writeScript(`${ctmp}/log/run`, ["exec cat >foo"]);
      runsv = startRunsv(sb, { who, path, dir: ctmp, out });
      await waitUntil(
        () => runningStat(`${ctmp}/supervise/stat`) && runningStat(`${ctmp}/log/supervise/stat`),
        { what: "run and log to run" },
      );
      await writeScript(`${ctmp}/control/i`, ["echo no interrupt", "exit 0"]);
      await control("i");
      await waitUntil(() => readText(`${ctmp}/log/foo`) === "starting\nno interrupt\n", {
        what: "control/i's output in the log",
      });
      await control("x");
      assertEquals((await runsv.done).code, 0);
      assertEquals(readText(`${ctmp}/log/foo`), "starting\nno interrupt\nterm\n");

      // supervise and log/supervise as dangling symlinks: runsv creates their targets.
      await Deno.remove(`${ctmp}/supervise`, { recursive: true });
      await Deno.remove(`${ctmp}/log/supervise`, { recursive: true });
      await Deno.remove(`${ctmp}/log/foo`);
      await Deno.symlink("foo", `${ctmp}/supervise`);
      await Deno.symlink("bar", `${ctmp}/log/supervise`);
      runsv = startRunsv(sb, { who, path, dir: ctmp, out });
      await waitUntil(
        () => runningStat(`${ctmp}/foo/stat`) && runningStat(`${ctmp}/log/bar/stat`),
        { what: "run and log to run under the symlinked supervise directories" },
      );
      assertOk(Deno.lstatSync(`${ctmp}/supervise`).isSymlink);
      await control("x", "foo");
      assertEquals((await runsv.done).code, 0);
      assertEquals(readText(`${ctmp}/log/foo`), "starting\nterm\n");
      // Nothing but the first phase's lines reached runsv's own output.
      assertEquals(readText(out), "starting\nterm\nstarting\nterm\n");
    },
  });

  Deno.test({
    name: `runit checks: sv.check (${who}): down, then exit`,
    ignore: who === "debian" && NO_DEBIAN,
    async fn() {
      await using sb = await Sandbox.create();
      const { path, ctmp, out } = await checkService(sb, who);
      const runsv = startRunsv(sb, { who, path, dir: ctmp, out });
      await waitUntil(() => runningStat(`${ctmp}/supervise/stat`), { what: "run" });
      assertEquals(await shell(`sv down "${ctmp}"; echo $?`, { who, cwd: sb.dir }), "0\n");
      await waitUntil(() => readText(`${ctmp}/supervise/stat`) === "down\n", { what: "down" });
      assertEquals(await shell(`sv exit "${ctmp}"; echo $?`, { who, cwd: sb.dir }), "0\n");
      assertEquals((await runsv.done).code, 0);
      assertEquals(readText(out), "starting\n");
    },
  });

  Deno.test({
    name: `runit checks: svlogd.check (${who}): append, -r/-R, config t2`,
    ignore: who === "debian" && NO_DEBIAN,
    async fn() {
      await using sb = await Sandbox.create();
      const script = [
        'mkdir "$ctmp"',
        'echo foo |svlogd "$ctmp"',
        "echo $?",
        'cat "$ctmp"/current',
        '( echo bar; echo baz ) |svlogd "$ctmp"',
        "echo $?",
        'cat "$ctmp"/current',
        '( echo foo; echo bar; echo baz ) |svlogd -r: -R fb "$ctmp"',
        "echo $?",
        'cat "$ctmp"/current',
      ].join("\n");
      assertEquals(
        await shell(script, { who, cwd: sb.dir }),
        "0\nfoo\n0\nfoo\nbar\nbaz\n0\nfoo\nbar\nbaz\n:oo\n:ar\n:az\n",
      );
      // t2: a current file older than 2 s is rotated even while no line comes in.
      const ctmp = `${sb.dir}/check-tmp`;
      await Deno.writeTextFile(`${ctmp}/config`, "t2\n");
      const svlogd = new Deno.Command("/bin/sh", {
        args: ["-c", 'exec svlogd "$1"', "sh", ctmp],
        clearEnv: true,
        env: { PATH: await pathFor(who) },
        stdin: "piped",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const writer = svlogd.stdin.getWriter();
      try {
        await writer.write(new TextEncoder().encode("foo\n"));
        await waitUntil(() => readText(`${ctmp}/current`) === "", {
          what: "the current file to be rotated",
          timeout: 15_000,
        });
        const rotated = [...Deno.readDirSync(ctmp)].filter((entry) => /^@.*\.s$/.test(entry.name));
        assertEquals(rotated.length, 1);
        assertEquals(
          readText(`${ctmp}/${rotated[0].name}`),
          "foo\nbar\nbaz\n:oo\n:ar\n:az\nfoo\n",
        );
      } finally {
        await writer.close();
      }
      assertEquals((await within(svlogd.status, { what: "svlogd to exit" })).code, 0);
      assertEquals(readText(`${ctmp}/current`), "");
    },
  });

  Deno.test({
    name: `runit checks: chpst.check (${who}): -e, -l, -L, -P, -012`,
    ignore: who === "debian" && NO_DEBIAN,
    async fn() {
      await using sb = await Sandbox.create();
      const script = [
        'mkdir "$ctmp"',
        'echo 1 >"$ctmp"/test',
        "chpst -e\"$ctmp\" env |sed -ne '/^test=1$/p'",
        "echo $?",
        'rm -rf "$ctmp"',
        'chpst -l"$ctmp" true',
        "echo $?",
        'rm -f "$ctmp"',
        'chpst -L"$ctmp" true',
        "echo $?",
        'rm -f "$ctmp"',
        "chpst -P true",
        "echo $?",
        "chpst -012 true",
        "echo $?",
      ].join("\n");
      assertEquals(await shell(script, { who, cwd: sb.dir }), "test=1\n0\n0\n0\n0\n0\n");
    },
  });
}

Deno.test({
  name: "runit checks: argv[0] as typed through the compiled binary",
  // deno compile needs Deno's runtime (denort) from its download host, unreachable here;
  // DENORT_BIN=/path/to/denort makes this run.
  ignore: Deno.env.get("DENORT_BIN") === undefined,
  async fn() {
    await using sb = await Sandbox.create();
    const root = new URL("..", import.meta.url).pathname;
    const compiled = await sb.run(Deno.execPath(), [
      "run",
      "-A",
      `${root}scripts/compile.ts`,
      "--output",
      `${sb.dir}/bin/runit`,
    ]);
    assertEquals(compiled.code, 0, compiled.stderr);
    for (const name of ["runsv", "sv"]) await Deno.symlink("runit", `${sb.dir}/bin/${name}`);
    const output = await new Deno.Command("/bin/sh", {
      args: ["-c", "exec 2>&1; runsv; sv -V; echo $?"],
      clearEnv: true,
      env: { PATH: `${sb.dir}/bin:/usr/bin:/bin` },
      stdout: "piped",
    }).output();
    assertEquals(
      decoder.decode(output.stdout),
      `usage: runsv dir\n\n${versionLine()}\nusage: sv${USAGE.sv}\n\n100\n`,
    );
  },
});
