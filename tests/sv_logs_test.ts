import { assertEquals, assertMatch } from "./assert.ts";
import { logDirs } from "../src/sv_logs.ts";
import { bin, exists, Sandbox, testUnless, waitRunning, waitUntil } from "./helpers.ts";

/** A TAI64N label for Unix second `sec` and `nsec`, as svlogd -t writes it. */
function tai64n(sec: number, nsec: number): string {
  const label = (1n << 62n) + 10n + BigInt(sec);
  return `@${label.toString(16).padStart(16, "0")}${nsec.toString(16).padStart(8, "0")}`;
}

Deno.test("sv logs: which directories (log/main, else svlogd's in log/run)", async () => {
  await using sb = await Sandbox.create();
  const dirs = async (name: string, run: string | undefined, made: string[]) => {
    const dir = `${sb.dir}/${name}`;
    await Deno.mkdir(`${dir}/log`, { recursive: true });
    for (const sub of made) {
      await Deno.mkdir(sub.startsWith("/") ? sub : `${dir}/log/${sub}`, { recursive: true });
    }
    if (run !== undefined) await Deno.writeTextFile(`${dir}/log/run`, run);
    return logDirs(dir).map((path) => path.replace(`${dir}/log/`, ""));
  };
  // log/main wins whatever log/run says.
  assertEquals(await dirs("a", "#!/bin/sh\nexec svlogd -tt ./other\n", ["main", "other"]), [
    "main",
  ]);
  // The last directory words after svlogd; options and their values are not directories.
  assertEquals(
    await dirs("b", "#!/bin/sh\nexec chpst -u log /usr/bin/svlogd -tt -l 200 ./one two\n", [
      "one",
      "two",
    ]),
    ["one", "two"],
  );
  assertEquals(
    await dirs("c", "#!/bin/sh\n# exec svlogd old\nexec 'svlogd' \"store\"\n", ["store", "old"]),
    [
      "store",
    ],
  );
  assertEquals(
    await dirs("d", `#!/bin/sh\nexec runit svlogd -t ${sb.dir}/abs\n`, [`${sb.dir}/abs`]),
    [
      `${sb.dir}/abs`,
    ],
  );
  // Not a directory, no svlogd, no log/run: none.
  assertEquals(await dirs("e", "#!/bin/sh\nexec svlogd -tt ./missing\n", []), []);
  assertEquals(await dirs("f", "#!/bin/sh\nexec logger -t web\n", ["main2"]), []);
  assertEquals(await dirs("g", undefined, []), []);
});

Deno.test("sv logs: last lines across rotated files and current, stamps in local time", async () => {
  await using sb = await Sandbox.create();
  const main = `${sb.dir}/services/web/log/main`;
  await Deno.mkdir(main, { recursive: true });
  await sb.script(`${sb.dir}/services/web/run`, "exec sleep 100");
  const t0 = 1700000000; // 2023-11-14 22:13:20 UTC
  await Deno.writeTextFile(
    `${main}/${tai64n(t0, 0).slice(0, 25)}.s`,
    `${tai64n(t0, 5)} one\n${tai64n(t0, 6)} two\n`,
  );
  await Deno.writeTextFile(
    `${main}/${tai64n(t0 + 60, 0).slice(0, 25)}.u`,
    `${tai64n(t0 + 1, 123456789)} three\n2023-11-14_22:13:22.50000 four\n`,
  );
  await Deno.writeTextFile(
    `${main}/current`,
    "2023-11-14T22:13:23.00001 five\nno stamp\nsix, cut short",
  );
  await Deno.writeTextFile(`${main}/config`, "s100000\n"); // not a log file
  const sv = `${await bin()}/sv`;
  const run = (tz: string, ...args: string[]) =>
    sb.run(sv, ["logs", ...args], { env: { SVDIR: `${sb.dir}/services`, TZ: tz } });
  const utc = await run("UTC", "-n", "6", "web");
  assertEquals([utc.code, utc.stderr], [0, ""]);
  assertEquals(
    utc.stdout,
    "2023-11-14 22:13:20.000000006 two\n" +
      "2023-11-14 22:13:21.123456789 three\n" +
      "2023-11-14 22:13:22.50000 four\n" +
      "2023-11-14 22:13:23.00001 five\n" +
      "no stamp\n" +
      "six, cut short\n",
  );
  const tokyo = await run("Asia/Tokyo", "web");
  assertEquals(tokyo.stdout.split("\n")[0], "2023-11-15 07:13:20.000000005 one"); // all 7 < 10
  assertEquals(tokyo.stdout.split("\n").length, 8);
  const two = await run("UTC", "-n2", "web", "./services/none", "web");
  assertEquals(
    two.stdout,
    "fail: ./services/none: unable to change to service directory: file does not exist\n" +
      "web: no stamp\nweb: six, cut short\nweb: no stamp\nweb: six, cut short\n",
  );
  assertEquals(two.code, 1);
  await Deno.remove(main, { recursive: true });
  const none = await run("UTC", "web");
  assertEquals([none.code, none.stdout], [1, "fail: web: no log directory found\n"]);
  const bad = await run("UTC", "-n", "x", "web");
  assertEquals(bad.code, 100);
  assertMatch(bad.stderr, /^usage: sv logs \[-f\] \[-n lines\] service/);
  assertEquals((await run("UTC")).code, 100);
});

/** Line numbers `line N` in `text`, in order. */
function numbers(text: string): number[] {
  return [...text.matchAll(/line (\d+)$/gm)].map((match) => Number(match[1]));
}

/** The log file of `dir` each numbered line ended up in. */
function fileOf(dir: string): Map<number, string> {
  const where = new Map<number, string>();
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.name !== "current" && !entry.name.startsWith("@")) continue;
    for (const n of numbers(Deno.readTextFileSync(`${dir}/${entry.name}`))) {
      where.set(n, entry.name);
    }
  }
  return where;
}

/** Whether process `pid` has a file under `dir` open. */
function opensUnder(pid: number, dir: string): boolean {
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
      try {
        if (Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`).startsWith(`${dir}/`)) return true;
      } catch {
        // Closed meanwhile.
      }
    }
  } catch {
    // Not started yet, or gone.
  }
  return false;
}

async function followAcrossRotations(svlogd: string, stamp: string): Promise<void> {
  await using sb = await Sandbox.create();
  const web = await sb.service("web", {
    // About 1000 lines a second, 20 rotations: often two between two looks of -f.
    run: "exec 2>&1\ni=0\nwhile :; do\n" +
      '  for j in 0 1 2 3 4 5 6 7 8 9; do i=$((i+1)); echo "line $i"; done\n  sleep 0.01\ndone',
    log: `exec ${svlogd} ${stamp} store`,
  });
  const store = `${web}/log/store`;
  await Deno.mkdir(store);
  await Deno.writeTextFile(`${store}/config`, "s2000\nn0\n");
  sb.start(`${await bin()}/runsv`, [web]);
  await waitRunning(`${web}/log`);
  await waitUntil(() => exists(`${store}/current`), { what: "svlogd's current" });
  const rotatedNow = () =>
    [...Deno.readDirSync(store)].filter((e) => e.name.startsWith("@")).length;
  const follow = sb.start(`${await bin()}/sv`, ["logs", "-f", "-n", "3", web], {
    stdout: "piped",
    env: { TZ: "UTC" },
  });
  // Count rotations from when it reads the log (a loaded machine may take a while to start it).
  await waitUntil(() => opensUnder(follow.pid, store), { what: "sv logs -f to open the log" });
  const before = rotatedNow();
  await waitUntil(() => rotatedNow() >= before + 20, { what: "rotations", timeout: 20_000 });
  Deno.kill(follow.pid, "SIGTERM");
  const { code, stdout } = await follow.done;
  assertEquals(code, 0);
  const seen = numbers(stdout);
  // No line lost or doubled: consecutive numbers, in order.
  assertEquals(seen, seen.map((_, i) => seen[0] + i));
  const where = fileOf(store);
  const files = new Set(seen.map((n) => where.get(n)));
  if (files.size < 5) throw new Error(`followed ${files.size} files only: ${[...files]}`);
  for (const line of stdout.trimEnd().split("\n")) {
    assertMatch(line, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{5,9} line \d+$/);
  }
}

Deno.test("sv logs -f: follows our svlogd across rotations, ends 0 on TERM", async () => {
  await followAcrossRotations(`${await bin()}/svlogd`, "-t");
});

testUnless(
  "sv logs -f: Debian's svlogd (-tt) across rotations",
  () => exists("/usr/bin/svlogd") ? undefined : "Debian's svlogd is not installed",
  () => followAcrossRotations("/usr/bin/svlogd", "-tt"),
);
