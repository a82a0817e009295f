/**
 * The daemontools names (chpst called as envdir, envuidgid, pgrphack,
 * setuidgid, softlimit, setlock) against Debian's daemontools binaries on
 * the same calls. Needs root and Debian's daemontools; skips otherwise.
 */

import { assertEquals, assertMatch } from "./assert.ts";
import { bin, type Output, Sandbox, testUnless, waitUntil, within } from "./helpers.ts";
import { blockedIn, running } from "./proc.ts";

function skipReason(): string | undefined {
  if (Deno.uid() !== 0) return "daemontools tests need root (setuidgid)";
  try {
    Deno.statSync("/usr/bin/envdir");
  } catch {
    return "Debian's daemontools (the oracle) is not installed";
  }
  return undefined;
}

function rootTest(name: string, fn: () => Promise<void>): void {
  testUnless(name, skipReason, fn);
}

/** Run `program args` as ours and as Debian's, at once. */
async function both(
  sb: Sandbox,
  program: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<[Output, Output]> {
  return await Promise.all([
    sb.run(`${await bin()}/${program}`, args, options),
    sb.run(`/usr/bin/${program}`, args, options),
  ]);
}

function assertSame([ours, theirs]: [Output, Output], what: string): void {
  assertEquals(ours, theirs, what);
}

/** The environment without what the launcher script (bash) itself changes. */
function envLines(text: string): string {
  return text.split("\n").filter((line) => !/^(SHLVL|_|OLDPWD|PWD)=/.test(line)).sort()
    .join("\n");
}

rootTest("daemontools: usage lines and exit codes as Debian's", async () => {
  await using sb = await Sandbox.create();
  const cases: [string, string[]][] = [
    ["envdir", []],
    ["envdir", ["dir"]],
    ["envuidgid", []],
    ["envuidgid", ["nobody"]],
    ["pgrphack", []],
    ["setuidgid", []],
    ["setuidgid", ["nobody"]],
    ["softlimit", []],
    ["softlimit", ["-z", "true"]],
    ["softlimit", ["-m"]],
    ["softlimit", ["-m", "12x", "true"]],
    ["setlock", []],
    ["setlock", ["file"]],
    ["setlock", ["-q", "file", "true"]],
  ];
  const results = await Promise.all(cases.map(([name, args]) => both(sb, name, args)));
  results.forEach((pair, index) => assertSame(pair, cases[index].flat().join(" ")));
  assertEquals(results[0][0], {
    code: 111,
    stdout: "",
    stderr: "envdir: usage: envdir dir child\n",
  });
});

rootTest("setuidgid, envuidgid: accounts as Debian's", async () => {
  await using sb = await Sandbox.create();
  const cases: [string, string[]][] = [
    ["setuidgid", ["nobody", "id"]],
    ["setuidgid", ["nobody", "grep", "-E", "^(Uid|Gid|Groups):", "/proc/self/status"]],
    ["setuidgid", ["no-such-user", "id"]],
    ["setuidgid", ["nobody", "/no/such/program"]],
    ["envuidgid", ["nobody", "sh", "-c", "echo $UID $GID; id -u"]],
    ["envuidgid", ["no-such-user", "true"]],
  ];
  const results = await Promise.all(
    cases.map(([name, args]) => both(sb, name, args, { cwd: "/" })),
  );
  results.forEach((pair, index) => assertSame(pair, cases[index].flat().join(" ")));
  assertEquals(
    results[0][0].stdout,
    "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n",
  );
  assertEquals(results[4][0].stdout, "65534 65534\n0\n");
});

rootTest("envdir: every edge case as Debian's", async () => {
  await using sb = await Sandbox.create();
  const env = `${sb.dir}/env`;
  Deno.mkdirSync(env);
  const files: Record<string, string> = {
    PLAIN: "value",
    TRAILING: "x \t",
    LINES: "first\nsecond",
    NULS: "a\0b",
    EMPTY: "",
    "A=B": "c",
    ".dot": "skipped",
  };
  for (const [name, content] of Object.entries(files)) {
    Deno.writeTextFileSync(`${env}/${name}`, content);
  }
  const [ours, theirs] = await both(sb, "envdir", [env, "env"]);
  assertEquals(envLines(ours.stdout), envLines(theirs.stdout));
  assertEquals([ours.code, ours.stderr], [0, ""]);
  assertMatch(ours.stdout, /^NULS=a\nb$/m);
  Deno.mkdirSync(`${env}/sub`);
  assertSame(await both(sb, "envdir", [env, "true"]), "subdirectory");
  assertSame(await both(sb, "envdir", [`${sb.dir}/none`, "true"]), "missing directory");
  assertSame(await both(sb, "envdir", [sb.dir, "/no/such/program"]), "missing program");
});

rootTest("pgrphack, softlimit: as Debian's", async () => {
  await using sb = await Sandbox.create();
  const stat = (output: Output) => {
    const fields = output.stdout.slice(output.stdout.lastIndexOf(")") + 2).split(" ");
    return [output.stdout.split(" ")[0] === fields[2], output.stdout.split(" ")[0] === fields[3]];
  };
  const [ours, theirs] = await both(sb, "pgrphack", ["cat", "/proc/self/stat"]);
  assertEquals(stat(ours), [true, true]);
  assertEquals(stat(ours), stat(theirs));
  const cases = [
    ["-o", "50"],
    ["-m", "400000000"],
    ["-a", "500000000", "-s", "1000000", "-l", "65536"],
    ["-c", "0", "-d", "300000000", "-f", "1000000", "-p", "300", "-r", "2000000", "-t", "20"],
    ["-o", "="],
    ["-o", "99999999999999"],
  ];
  const results = await Promise.all(
    cases.map((args) => both(sb, "softlimit", [...args, "cat", "/proc/self/limits"])),
  );
  results.forEach((pair, index) => assertSame(pair, cases[index].join(" ")));
  assertMatch(results[0][0].stdout, /^Max open files\s+50\s/m);
});

rootTest("setlock: locks, -n, -x, errors as Debian's", async () => {
  await using sb = await Sandbox.create();
  const lock = `${sb.dir}/lock`;
  assertSame(await both(sb, "setlock", [lock, "ls", "/proc/self/fd"]), "free");
  const holder = sb.start("/usr/bin/setlock", [lock, "sleep", "1000"]);
  await waitUntil(
    async () => (await sb.run("/usr/bin/setlock", ["-n", lock, "true"])).code === 111,
    {
      what: "the holder to take the lock",
    },
  );
  const held = await both(sb, "setlock", ["-n", lock, "true"]);
  assertSame(held, "-n held");
  assertEquals(held[0].stderr, `setlock: fatal: unable to lock ${lock}: temporary failure\n`);
  assertSame(await both(sb, "setlock", ["-nx", lock, "true"]), "-nx held");
  assertSame(await both(sb, "setlock", ["-x", `${sb.dir}/no/lock`, "true"]), "-x no dir");
  assertSame(await both(sb, "setlock", [`${sb.dir}/no/lock`, "true"]), "no dir");
  const waiter = sb.start(`${await bin()}/setlock`, [lock, "true"]);
  await waitUntil(() => blockedIn(waiter.pid, "flock"), { what: "setlock to wait for the lock" });
  assertEquals(await running(sb, waiter.pid), true);
  Deno.kill(holder.pid, "SIGTERM");
  assertEquals((await within(waiter.done, { what: "setlock to finish" })).code, 0);
});
