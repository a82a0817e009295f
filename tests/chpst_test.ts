/**
 * chpst against Debian's /usr/bin/chpst on the same calls, and the one rule
 * that matters: chpst becomes the program (same pid, signals reach it).
 * Needs root (users, chroot, nice) and Debian's runit; skips otherwise.
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import { bin, type Output, Sandbox, testUnless, waitUntil, within } from "./helpers.ts";
import { blockedIn, procFile, running } from "./proc.ts";
import { spawn, waitFor } from "../src/sys/mod.ts";

const DEBIAN = "/usr/bin/chpst";

function skipReason(): string | undefined {
  if (Deno.uid() !== 0) return "chpst tests need root (setuid, chroot, nice)";
  try {
    Deno.statSync(DEBIAN);
  } catch {
    return `${DEBIAN} (Debian's runit, the oracle) is not installed`;
  }
  return undefined;
}

function rootTest(name: string, fn: () => Promise<void>): void {
  testUnless(name, skipReason, fn);
}

/** Debian's 2.1.2 usage line lacks upstream 2.3.0's -C; compare without it. */
function sameUsage(text: string): string {
  return text.replace(" [-C pwd]", "");
}

/** Run the same chpst arguments through ours and Debian's at once. */
async function both(
  sb: Sandbox,
  args: string[],
  options: { cwd?: string; program?: string } = {},
): Promise<[Output, Output]> {
  const program = options.program ?? "chpst";
  return await Promise.all([
    sb.run(`${await bin()}/${program}`, args, { cwd: options.cwd }),
    sb.run(`/usr/bin/${program}`, args, { cwd: options.cwd }),
  ]);
}

/** Assert identical exit code, stdout and stderr. */
function assertSame([ours, theirs]: [Output, Output], what: string): void {
  assertEquals(
    { code: ours.code, stdout: ours.stdout, stderr: sameUsage(ours.stderr) },
    { code: theirs.code, stdout: theirs.stdout, stderr: theirs.stderr },
    what,
  );
}

function statusLines(text: string, names: string[]): string {
  return text.split("\n").filter((line) => names.some((name) => line.startsWith(`${name}:`)))
    .join("\n");
}

rootTest("chpst becomes the program: same pid under runsv, sv term ends it", async () => {
  await using sb = await Sandbox.create();
  const b = await bin();
  const dir = await sb.service("svc", {
    run: `exec ${b}/chpst -u nobody -n 1 sleep 1000`,
  });
  const runsv = sb.start(`${b}/runsv`, [dir]);
  let pid = 0;
  try {
    pid = await waitUntil(async () => {
      const found = Number(Deno.readTextFileSync(`${dir}/supervise/pid`).trim());
      return await procFile(sb, found, "cmdline") === "sleep\x001000\x00" ? found : 0;
    }, { what: "the service to be sleep 1000" });
    const status = await sb.run(`${b}/sv`, ["status", dir]);
    assertMatch(status.stdout, new RegExp(`^run: .*svc: \\(pid ${pid}\\) \\d+s`));
    assertMatch((await procFile(sb, pid, "status"))!, /^Uid:\t65534\t/m);
    const term = await sb.run(`${b}/sv`, ["term", dir]);
    assertEquals(term.code, 0);
    await waitUntil(async () => await procFile(sb, pid, "cmdline") !== "sleep\x001000\x00", {
      what: "sleep to end on TERM",
    });
  } finally {
    // Make sure of it: the sleep holds runsv's stderr pipe, which the sandbox waits on.
    await sb.run(`${b}/sv`, ["down", dir]);
    if (pid) await sb.run("kill", ["-KILL", String(pid)]);
    Deno.kill(runsv.pid, "SIGKILL");
    await within(runsv.done, { what: "runsv to exit" });
  }
});

rootTest("chpst: same pid as started, signal and exit code are the program's", async () => {
  await using sb = await Sandbox.create();
  const started = sb.start(`${await bin()}/chpst`, ["-P", "sleep", "1000"]);
  await waitUntil(
    async () => await procFile(sb, started.pid, "cmdline") === "sleep\x001000\x00",
    { what: "chpst to become sleep" },
  );
  Deno.kill(started.pid, "SIGTERM");
  const status = await within(started.child.status, { what: "sleep to exit" });
  assertEquals(status.signal, "SIGTERM");
  const exit = await sb.run(`${await bin()}/chpst`, ["sh", "-c", "exit 7"]);
  assertEquals(exit.code, 7);
});

rootTest("chpst -u, -U: users and groups as Debian's", async () => {
  await using sb = await Sandbox.create();
  const cases = [
    ["-u", "nobody:nogroup", "id"],
    ["-u", ":65534:65534", "id"],
    ["-u", ":65534:1:", "id"],
    ["-u", ":1:2:3", "id"],
    ["-u", "nobody", "cat", "/proc/self/status"],
    ["-u", "nobody:nogroup:daemon:bin", "cat", "/proc/self/status"],
    ["-u", ":65534", "id"],
    ["-u", ":x:1", "id"],
    ["-u", "no-such-user", "id"],
    ["-u", "nobody:no-such-group", "id"],
    ["-U", "nobody:nogroup", "sh", "-c", "echo $UID $GID"],
    ["-U", ":5:6", "sh", "-c", "echo $UID $GID"],
    ["-U", "nobody", "-u", ":1:2", "sh", "-c", "echo $UID $GID; id"],
  ];
  const results = await Promise.all(cases.map((args) => both(sb, args, { cwd: "/" })));
  results.forEach(([ours, theirs], index) => {
    const fix = (output: Output) => ({
      ...output,
      stdout: output.stdout.includes("Uid:")
        ? statusLines(output.stdout, ["Uid", "Gid", "Groups"])
        : output.stdout,
    });
    assertSame([fix(ours), fix(theirs)], cases[index].join(" "));
  });
  assertEquals(
    results[0][0].stdout,
    "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n",
  );
  assertEquals(results[8][0].stderr, "chpst: fatal: unknown user/group: no-such-user\n");
  assertEquals(results[8][0].code, 111);
  // State changes that fail without the privilege: root without CAP_SETGID
  // and CAP_SYS_NICE (setpriv, util-linux).
  for (
    const [args, text] of [
      [["-u", "nobody", "true"], "unable to setgroups: permission denied"],
      [["-n", "-5", "true"], "unable to set nice level: permission denied"],
    ] as const
  ) {
    const [ours, theirs] = await Promise.all(
      [`${await bin()}/chpst`, DEBIAN].map((program) =>
        sb.run("setpriv", ["--bounding-set", "-setgid,-sys_nice", program, ...args])
      ),
    );
    assertEquals(ours, theirs);
    assertEquals(ours, { code: 111, stdout: "", stderr: `chpst: fatal: ${text}\n` });
  }
});

rootTest("chpst: every limit option as Debian's (/proc/self/limits)", async () => {
  await using sb = await Sandbox.create();
  const cases = [
    ["-m", "300000000"],
    ["-d", "200000000"],
    ["-o", "77"],
    ["-p", "555"],
    ["-f", "123456"],
    ["-c", "4096"],
    ["-r", "1000000"],
    ["-t", "33"],
    ["-o", "999999999999"],
    ["-o", ""],
    ["-o", "12x"],
  ];
  const results = await Promise.all(
    cases.map((args) => both(sb, [...args, "cat", "/proc/self/limits"])),
  );
  results.forEach((pair, index) => assertSame(pair, cases[index].join(" ")));
  assertMatch(results[2][0].stdout, /^Max open files\s+77\s/m);
  assertEquals(results[10][0].code, 100);
});

rootTest("chpst: nice, new process group, -b, closed descriptors", async () => {
  await using sb = await Sandbox.create();
  const statField = (output: Output, field: number) =>
    output.stdout.slice(output.stdout.lastIndexOf(")") + 2).split(" ")[field - 3];
  const [nice] = await both(sb, ["-n", "5", "cat", "/proc/self/stat"]);
  assertEquals(statField(nice, 19), "5");
  const [minus, minusTheirs] = await both(sb, ["-n", "-3", "cat", "/proc/self/stat"]);
  assertEquals(statField(minus, 19), statField(minusTheirs, 19));
  const group = await sb.run(`${await bin()}/chpst`, ["-P", "cat", "/proc/self/stat"]);
  const pid = group.stdout.split(" ")[0];
  assertEquals([statField(group, 5), statField(group, 6)], [pid, pid]);
  assertSame(await both(sb, ["-b", "renamed", "sh", "-c", "echo $0"]), "-b");
  assertSame(await both(sb, ["-b", "renamed", "/no/such/program"]), "-b missing");
  const probe = "for f in 0 1 2; do [ -e /proc/$$/fd/$f ] || : > closed$f.$0; done";
  await Promise.all([
    sb.run(`${await bin()}/chpst`, ["-0", "-1", "-2", "sh", "-c", probe, "ours"]),
    sb.run(DEBIAN, ["-0", "-1", "-2", "sh", "-c", probe, "theirs"]),
  ]);
  const names = [...Deno.readDirSync(sb.dir)].map((entry) => entry.name).sort();
  assertEquals(names, [
    "closed0.ours",
    "closed0.theirs",
    "closed1.ours",
    "closed1.theirs",
    "closed2.ours",
    "closed2.theirs",
  ]);
});

/**
 * Run `command` in sh started through our spawn path (clean signal state:
 * Deno.Command children inherit a runtime thread's blocked mask) and wait.
 */
async function cleanShell(command: string): Promise<void> {
  await waitFor(spawn(["/bin/sh", "-c", command], {}));
}

rootTest("chpst: signal state and descriptors of the program as Debian's", async () => {
  await using sb = await Sandbox.create();
  const ours = `${await bin()}/chpst`;
  // The program itself reads its state (a shell in between would show its own).
  const lines = (file: string) => Deno.readTextFileSync(`${sb.dir}/${file}`);
  for (const [name, program] of [["ours", ours], ["theirs", DEBIAN]]) {
    await cleanShell(
      `cd ${sb.dir} && ${program} -l lock grep -E '^Sig(Ign|Blk)' /proc/self/status > ${name}` +
        ` && exec ${program} -L lock ls /proc/self/fd > fd.${name}`,
    );
    // An ignored signal (here HUP, as nohup leaves it) passes on as through runit's.
    await cleanShell(
      `cd ${sb.dir} && trap '' HUP && exec ${program} grep ^SigIgn /proc/self/status > hup.${name}`,
    );
  }
  assertEquals(lines("ours"), lines("theirs"));
  assertEquals(lines("ours"), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  // Equal to Debian's: the descriptors inherited plus the lock (3), nothing of Deno's.
  assertEquals(lines("fd.ours"), lines("fd.theirs"));
  assertMatch(lines("fd.ours"), /^0\n1\n(\d+\n)*3\n/);
  assertEquals(lines("hup.ours"), lines("hup.theirs"));
  assertEquals(lines("hup.ours"), "SigIgn:\t0000000000000001\n");
});

rootTest("chpst -e: every envdir edge case as Debian's", async () => {
  await using sb = await Sandbox.create();
  const env = `${sb.dir}/env`;
  Deno.mkdirSync(env);
  const files: Record<string, string> = {
    PLAIN: "value",
    TRAILING: "spaces and tabs \t \t",
    LINES: "first line  \nsecond line\n",
    NULS: "a\0b\0c\n",
    EMPTY: "",
    REMOVED: "",
    "WITH=EQUALS": "x",
    ".hidden": "never",
    LEADING: "  kept",
  };
  for (const [name, content] of Object.entries(files)) {
    Deno.writeTextFileSync(`${env}/${name}`, content);
  }
  const envFor = (output: Output) =>
    output.stdout.split("\n").filter((line) => !/^(SHLVL|_|OLDPWD|PWD)=/.test(line)).sort().join(
      "\n",
    );
  const withRemoved = { cwd: sb.dir };
  Deno.env.set("REMOVED", "present");
  try {
    const [ours, theirs] = await both(sb, ["-e", env, "env"], withRemoved);
    assertEquals(envFor(ours), envFor(theirs));
    assertEquals([ours.code, ours.stderr], [0, ""]);
    assertOk(ours.stdout.includes("NULS=a\nb\nc\n"));
    assertOk(!ours.stdout.includes("REMOVED="));
    assertOk(ours.stdout.includes("TRAILING=spaces and tabs\n"));
  } finally {
    Deno.env.delete("REMOVED");
  }
  Deno.mkdirSync(`${env}/subdir`);
  assertSame(await both(sb, ["-e", env, "true"]), "-e subdir");
  assertSame(await both(sb, ["-v", "-e", env, "true"]), "-v -e subdir");
  assertSame(await both(sb, ["-e", `${sb.dir}/missing`, "true"]), "-e missing");
});

rootTest("chpst -/: into a small chroot, and a chroot that does not exist", async () => {
  await using sb = await Sandbox.create();
  const root = `${sb.dir}/root`;
  const ldd = await sb.run("ldd", ["/bin/sh"]);
  const libraries = [...ldd.stdout.matchAll(/(\/\S+)/g)].map((match) => match[1]);
  for (const file of ["/bin/sh", ...libraries]) {
    const real = Deno.realPathSync(file);
    Deno.mkdirSync(`${root}${file.slice(0, file.lastIndexOf("/"))}`, { recursive: true });
    Deno.copyFileSync(real, `${root}${file}`);
    Deno.chmodSync(`${root}${file}`, 0o755);
  }
  Deno.mkdirSync(`${root}/home`);
  const script = "echo in $(pwd); [ -e /root ] && echo escaped; echo done";
  const [ours, theirs] = await both(sb, ["-/", root, "/bin/sh", "-c", script]);
  assertSame([ours, theirs], "-/");
  assertEquals(ours.stdout, "in /\ndone\n");
  assertSame(await both(sb, ["-/", `${sb.dir}/none`, "true"]), "-/ missing");
  assertSame(await both(sb, ["-/", root, "/bin/missing"]), "-/ missing program");
  // Users are looked up inside the new root (no /etc/passwd there), libc already loaded.
  const noPasswd = await both(sb, ["-/", root, "-u", "nobody", "/bin/sh", "-c", "echo no"]);
  assertSame(noPasswd, "-/ then -u");
  assertEquals(
    noPasswd[0].stderr,
    "chpst: fatal: unable to get password/group file entry: file does not exist\n",
  );
  assertSame(
    await both(sb, [
      "-/",
      root,
      "-u",
      ":1:1",
      "-n",
      "1",
      "-o",
      "100",
      "-P",
      "/bin/sh",
      "-c",
      "echo $(ulimit -n)",
    ]),
    "-/ with numeric -u and more",
  );
  const ourChdir = await sb.run(`${await bin()}/chpst`, [
    "-/",
    root,
    "-C",
    "/home",
    "/bin/sh",
    "-c",
    "echo $(pwd)",
  ]);
  assertEquals(ourChdir.stdout, "/home\n");
  const noDir = await sb.run(`${await bin()}/chpst`, ["-C", `${sb.dir}/none`, "true"]);
  assertEquals(noDir, {
    code: 111,
    stdout: "",
    stderr: `chpst: fatal: unable to change directory: ${sb.dir}/none: file does not exist\n`,
  });
});

rootTest("chpst -l/-L against a held lock", async () => {
  await using sb = await Sandbox.create();
  const lock = `${sb.dir}/lock`;
  const holder = sb.start(DEBIAN, ["-l", lock, "sleep", "1000"]);
  await waitUntil(async () => (await sb.run(DEBIAN, ["-L", lock, "true"])).code === 111, {
    what: "the holder to take the lock",
  });
  const failed = await both(sb, ["-L", lock, "true"]);
  assertSame(failed, "-L held");
  assertEquals(failed[0].stderr, `chpst: fatal: unable to lock: ${lock}: temporary failure\n`);
  const waiter = sb.start(`${await bin()}/chpst`, [
    "-l",
    lock,
    "sh",
    "-c",
    `echo got > ${lock}.got`,
  ]);
  await waitUntil(() => blockedIn(waiter.pid, "flock"), { what: "chpst -l to wait for the lock" });
  assertOk(await running(sb, waiter.pid), "-l waits while the lock is held");
  assertOk(!Deno.statSync(lock).size && !existsSync(`${lock}.got`));
  Deno.kill(holder.pid, "SIGTERM");
  assertEquals((await within(waiter.done, { what: "chpst -l to finish" })).code, 0);
  assertEquals(Deno.readTextFileSync(`${lock}.got`), "got\n");
  assertSame(await both(sb, ["-l", `${sb.dir}/no/dir/lock`, "true"]), "-l no dir");
  assertSame(await both(sb, ["-l", lock, "-L", lock, "true"]), "-l and -L");
  // The lock is taken after privileges are dropped (runit's order).
  Deno.chmodSync(sb.dir, 0o700);
  assertSame(await both(sb, ["-u", "nobody", "-l", `${sb.dir}/private`, "true"]), "-u then -l");
});

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

rootTest("chpst: wrong options and usage as upstream's", async () => {
  await using sb = await Sandbox.create();
  const cases = [[], ["-z", "true"], ["-m"], ["-n", "x", "true"], ["-u", "nobody"], ["-v"]];
  const results = await Promise.all(cases.map((args) => both(sb, args)));
  results.forEach((pair, index) => assertSame(pair, `chpst ${cases[index].join(" ")}`));
  assertEquals(
    results[0][0].stderr,
    "usage: chpst [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root]" +
      " [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n]" +
      " prog\n\n",
  );
  assertEquals(results[0][0].code, 100);
});
