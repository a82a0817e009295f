/**
 * svlogd, side by side with Debian's /usr/bin/svlogd: the same input and
 * config into two log directories, then file lists, modes and contents
 * compared (stamps by format, rotated names by order). Then what only ours
 * is asked to prove: a million lines through hundreds of rotations, a full
 * filesystem, signals, the processor, UDP, and KILL under runsv.
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import {
  alive,
  bin,
  collect,
  hasDebianRunit,
  hasSysAdmin,
  pidOf,
  readText,
  Sandbox,
  testUnless,
  waitUntil,
  within,
} from "./helpers.ts";
import { hasUnread } from "./proc.ts";
import { type Case, CASES, lines, logDirs, normalize, runWith, snapshot } from "./svlog_cases.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const DEBIAN = "/usr/bin/svlogd";
const debian = hasDebianRunit();

/** Run Debian's svlogd and ours on the same case; both results, normalized. */
async function pair(sb: Sandbox, name: string, test: Case): Promise<[string, string]> {
  const ours = `${await bin()}/svlogd`;
  const results: string[] = [];
  for (const [which, program] of [["debian", DEBIAN], ["ours", ours]]) {
    const root = `${sb.dir}/${name}-${which}`;
    const dirs = await logDirs(root, test);
    const result = await runWith(program, [...test.args, ...dirs], {
      cwd: root,
      input: test.input,
    });
    const stderr = normalize(result.stderr).replaceAll(program, "svlogd");
    results.push(
      `exit ${result.code}\nstderr:\n${stderr}\n` + dirs.map((d) => snapshot(`${root}/${d}`))
        .join("\n===\n"),
    );
  }
  return [results[0], results[1]];
}

const skipDebian = !debian;
if (skipDebian) console.log("svlogd comparison tests skipped: Debian's runit is not installed");

Deno.test({
  name: "svlogd: usage and fatal errors as Debian's",
  ignore: skipDebian,
  async fn() {
    await using sb = await Sandbox.create();
    const ours = `${await bin()}/svlogd`;
    const cases = [
      [],
      ["-x", "d"],
      ["-r", "ab", "d"],
      ["-r", "", "d"],
      ["-l", "2000", "d"],
      [
        "-b",
        "10",
        "d",
      ],
      ["missing"],
      ["missing", "alsomissing"],
    ];
    for (const args of cases) {
      const expected = await runWith(DEBIAN, args, { cwd: sb.dir, input: "" });
      const actual = await runWith(ours, args, { cwd: sb.dir, input: "" });
      assertEquals(actual.code, expected.code, args.join(" "));
      assertEquals(
        actual.stderr.replaceAll(ours, "svlogd"),
        expected.stderr.replaceAll(DEBIAN, "svlogd"),
      );
    }
  },
});

for (const [name, test] of Object.entries(CASES)) {
  Deno.test({
    name: `svlogd: same bytes as Debian's: ${name}`,
    ignore: skipDebian,
    async fn() {
      await using sb = await Sandbox.create();
      const [expected, actual] = await pair(sb, name.replace(/\W+/g, "_"), test);
      assertEquals(actual, expected);
    },
  });
}

Deno.test({
  name: "svlogd: processor success and failure paths, as Debian's",
  ignore: skipDebian,
  async fn() {
    await using sb = await Sandbox.create();
    // Fails on its first run (no marker yet), then upper-cases its input,
    // passes the previous state through and records a new one on fd 5.
    const processor =
      "!if test -e ran; then tr a-z A-Z; cat <&4; echo state >&5; else touch ran; exit 3; fi";
    const [expected, actual] = await pair(sb, "processor", {
      args: [],
      input: lines,
      config: `s2000\nn0\n${processor}\n`,
    });
    assertEquals(actual, expected);
    assertMatch(actual, /processor failed, restart: log0/);
    assertMatch(actual, /@0\.s 744\nLINE 0/);
    assertMatch(actual, /state 644\nstate\n/);
  },
});

Deno.test("svlogd: a million lines through hundreds of rotations, each exactly once", async () => {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/log`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(`${dir}/config`, "s100000\nn0\n");
  const count = 1_000_000;
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`${i} ${"abcdefghij".slice(i % 7)}\n`);
  const input = encoder.encode(parts.join(""));
  const result = await runWith(`${await bin()}/svlogd`, ["log"], { cwd: sb.dir, input });
  assertEquals(result.code, 0, result.stderr);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("@"))
    .sort();
  assertOk(names.length > 100, `only ${names.length} rotations`);
  let next = 0;
  for (const name of [...names, "current"]) {
    const text = Deno.readTextFileSync(`${dir}/${name}`);
    assertOk(text === "" || text.endsWith("\n"), `${name} ends inside a line`);
    assertOk(text.length <= 100000, `${name} is ${text.length} bytes`);
    for (const line of text.split("\n").slice(0, -1)) {
      assertEquals(line, `${next} ${"abcdefghij".slice(next % 7)}`, `in ${name}`);
      next++;
    }
  }
  assertEquals(next, count);
});

Deno.test("svlogd: no line is split where runit's would be (s below -l, long lines)", async () => {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/log`;
  await Deno.mkdir(dir);
  // runit cuts its writes at s bytes when s < -l, splitting lines; ours
  // rotates before a line that does not fit instead.
  await Deno.writeTextFile(`${dir}/config`, "s100\nn0\n");
  const input = Array.from({ length: 200 }, (_, i) => `${i} ${"y".repeat(i % 60)}\n`).join("") +
    `${"z".repeat(300)}\nend\n`;
  const result = await runWith(`${await bin()}/svlogd`, ["-tt", "log"], { cwd: sb.dir, input });
  assertEquals(result.code, 0, result.stderr);
  const texts = [...rotated(dir), "current"].map((n) => readText(`${dir}/${n}`));
  for (const text of texts) {
    assertOk(text === "" || text.endsWith("\n"), "a file ends inside a line");
    const count = text.split("\n").length - 1;
    assertOk(text.length <= 100 || count === 1, `${text.length} bytes in ${count} lines`);
  }
  assertEquals(normalize(texts.join("")), input.replace(/^/gm, "<tt> ").slice(0, -5));
});

/** Start our svlogd on a pipe we write to; returns the writer and the process. */
async function startOurs(sb: Sandbox, args: string[]) {
  const child = new Deno.Command(`${await bin()}/svlogd`, {
    args,
    cwd: sb.dir,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const stderr = collect(child.stderr);
  const done = (async () => ({ status: await child.status, stderr: await stderr.done }))();
  return {
    child,
    write: (text: string) => writer.write(encoder.encode(text)),
    close: () => writer.close().catch(() => {}),
    /** What it has written to stderr so far. */
    stderr: stderr.text,
    /** Its exit status and stderr, once it has exited (within a deadline). */
    done: () => within(done, { what: "svlogd to exit" }),
  };
}

function rotated(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("@")).sort();
}

Deno.test("svlogd: ALRM rotates a non-empty current, HUP rereads config, TERM exits 0", async () => {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/log`;
  await Deno.mkdir(dir);
  const logger = await startOurs(sb, ["-v", "log"]);
  try {
    await logger.write("first\n");
    await waitUntil(() => readText(`${dir}/current`) === "first\n", { what: "first line" });
    Deno.kill(logger.child.pid, "SIGALRM");
    await waitUntil(() => rotated(dir).length === 1, { what: "rotation on ALRM" });
    assertEquals(readText(`${dir}/${rotated(dir)[0]}`), "first\n");
    assertEquals(readText(`${dir}/current`), "");
    Deno.kill(logger.child.pid, "SIGALRM"); // empty current: nothing to rotate
    // Acted on before any later input is read: wait for it, or "second" could be rotated.
    await waitUntil(() => logger.stderr().split("sigalarm received.").length === 3, {
      what: "the second ALRM",
    });
    await Deno.writeTextFile(`${dir}/config`, "pnew: \n");
    Deno.kill(logger.child.pid, "SIGHUP");
    // The signal and the data race (in runit too): write until the new
    // config shows.
    await waitUntil(async () => {
      await logger.write("second\n");
      return readText(`${dir}/current`).endsWith("new: second\n");
    }, { what: "prefix after HUP", interval: 100 });
    assertMatch(readText(`${dir}/current`), /^(second\n)*(new: second\n)+$/);
    assertEquals(rotated(dir).length, 1);
    // TERM with half a line read: runit finishes that line, then exits.
    await logger.write("thi");
    await waitUntil(async () => !await hasUnread(logger.child.pid, 0), { what: "thi to be read" });
    Deno.kill(logger.child.pid, "SIGTERM");
    await logger.write("rd\n");
    const { status, stderr } = await logger.done();
    assertEquals(status.code, 0, stderr);
    assertMatch(readText(`${dir}/current`), /new: second\nnew: third\n$/);
    assertEquals((Deno.statSync(`${dir}/current`).mode! & 0o777).toString(8), "744");
    assertMatch(stderr, /svlogd: info: sigalarm received\.\n/);
    assertMatch(stderr, /svlogd: info: sighangup received\.\n/);
    assertMatch(stderr, /svlogd: info: sigterm received\.\n/);
    assertMatch(stderr, /svlogd: info: read: log\/config\n/);
  } finally {
    await logger.close();
    await logger.done();
  }
});

Deno.test("svlogd: t rotates a non-empty current by age", async () => {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/log`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(`${dir}/config`, "t1\n");
  const logger = await startOurs(sb, ["log"]);
  try {
    await logger.write("old\n");
    await waitUntil(() => rotated(dir).length === 1, { what: "rotation by age" });
    assertEquals(readText(`${dir}/${rotated(dir)[0]}`), "old\n");
    await logger.write("newer\n");
    await waitUntil(() => rotated(dir).length === 2, { what: "second rotation by age" });
    assertEquals(readText(`${dir}/${rotated(dir)[1]}`), "newer\n");
    assertEquals(readText(`${dir}/current`), "");
  } finally {
    await logger.close();
    assertEquals((await logger.done()).status.code, 0);
  }
});

Deno.test("svlogd: a current left without its x bit is saved as .u on start", async () => {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/log`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(`${dir}/current`, "crashed\n", { mode: 0o644 });
  await Deno.chmod(`${dir}/current`, 0o644);
  const result = await runWith(`${await bin()}/svlogd`, ["log"], { cwd: sb.dir, input: "next\n" });
  assertEquals(result.code, 0);
  const names = rotated(dir);
  assertEquals(names.length, 1);
  assertMatch(names[0], /^@[0-9a-f]{24}\.u$/);
  assertEquals(readText(`${dir}/${names[0]}`), "crashed\n");
  assertEquals(readText(`${dir}/current`), "next\n");
});

Deno.test("svlogd: TERM waits for a running processor", async () => {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/log`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(`${dir}/config`, "!sleep 0.5; cat\n");
  const logger = await startOurs(sb, ["log"]);
  await logger.write("a\n");
  await waitUntil(() => readText(`${dir}/current`) === "a\n", { what: "line" });
  Deno.kill(logger.child.pid, "SIGALRM");
  await waitUntil(() => rotated(dir).some((n) => n.endsWith(".u")), { what: ".u file" });
  Deno.kill(logger.child.pid, "SIGTERM");
  const { status } = await logger.done();
  await logger.close();
  assertEquals(status.code, 0);
  const names = rotated(dir);
  assertEquals(names.length, 1);
  assertMatch(names[0], /\.s$/);
  assertEquals(readText(`${dir}/${names[0]}`), "a\n");
});

const UDP_LISTENER = `
import dgram from "node:dgram";
const socket = dgram.createSocket("udp4");
let left = 4;
socket.on("message", (m) => {
  console.log(JSON.stringify(new TextDecoder().decode(m)));
  if (--left === 0) socket.close();
});
socket.bind(0, "127.0.0.1", () => console.log(socket.address().port));
`;

Deno.test("svlogd: u and U forward to UDP on loopback", async () => {
  await using sb = await Sandbox.create();
  // The test runs without net permission; a child Deno with it listens.
  const listener = new Deno.Command(Deno.execPath(), {
    args: ["eval", UDP_LISTENER],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const heard = collect(listener.stdout);
  try {
    const port = Number(
      await waitUntil(() => /^(\d+)\n/.exec(heard.text())?.[1], { what: "the listener's port" }),
    );
    await Deno.mkdir(`${sb.dir}/both`);
    await Deno.mkdir(`${sb.dir}/only`);
    await Deno.writeTextFile(`${sb.dir}/both/config`, `u127.0.0.1:${port}\npB \n`);
    await Deno.writeTextFile(`${sb.dir}/only/config`, `U127.0.0.1:${port}\npO \n`);
    const result = await runWith(`${await bin()}/svlogd`, ["-l", "8", "both", "only"], {
      cwd: sb.dir,
      input: "hello\na long line here\n",
    });
    assertEquals(result.code, 0, result.stderr);
    // The listener exits after four datagrams.
    await waitUntil(() => heard.ended(), { what: "four datagrams" });
    const received = JSON.parse(`[${heard.text().split("\n").slice(1, -1).join(",")}]`) as string[];
    assertEquals(received.sort(), [
      "B a long l...\n",
      "B hello\n",
      "O a long l...\n",
      "O hello\n",
    ]);
    assertEquals(readText(`${sb.dir}/both/current`), "B hello\nB a long line here\n");
    assertEquals(readText(`${sb.dir}/only/current`), "");
  } finally {
    try {
      listener.kill();
    } catch {
      // Already gone after four datagrams.
    }
    await within(listener.status, { what: "the listener to exit" });
  }
});

testUnless(
  "svlogd: a full filesystem: N deletes old files, otherwise svlogd waits and loses nothing",
  hasSysAdmin() ? undefined : "mounting a tmpfs needs root with CAP_SYS_ADMIN",
  async () => {
    await using sb = await Sandbox.create();
    const mount = `${sb.dir}/fs`;
    await Deno.mkdir(mount);
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mount],
    }).output();
    assertOk(mounted.success, `mount: ${decoder.decode(mounted.stderr)}`);
    try {
      // With N: old files go, newest lines stay, exit 0.
      await Deno.mkdir(`${mount}/n`);
      await Deno.writeTextFile(`${mount}/n/config`, "s100000\nn20\nN1\n");
      const count = 60000;
      const input = Array.from({ length: count }, (_, i) => `line ${i} padding-padding\n`).join("");
      const withN = await runWith(`${await bin()}/svlogd`, ["fs/n"], { cwd: sb.dir, input });
      assertEquals(withN.code, 0, withN.stderr);
      assertMatch(withN.stderr, /svlogd: warning: out of disk space, delete: fs\/n\/@/);
      const kept = [...rotated(`${mount}/n`), "current"].map((n) => readText(`${mount}/n/${n}`));
      for (const text of kept) assertMatch(text, /^(line \d+ padding-padding\n)*$/);
      assertOk(kept.join("").endsWith(`line ${count - 1} padding-padding\n`));
      await Deno.remove(`${mount}/n`, { recursive: true });

      // Without N: pause and retry; once space is freed, every line arrives.
      await Deno.mkdir(`${mount}/w`);
      await Deno.writeTextFile(`${mount}/w/config`, "s0\n");
      await Deno.writeFile(`${mount}/filler`, new Uint8Array(400 * 1024));
      const logger = await startOurs(sb, ["fs/w"]);
      const total = 8000;
      const text = Array.from({ length: total }, (_, i) => `line ${i} padding-padding\n`).join("");
      const writing = logger.write(text).then(() => logger.close());
      await waitUntil(() => alive(logger.child.pid) && readText(`${mount}/w/current`).length > 0, {
        what: "first writes",
      });
      // The logger pauses (3 s) on the full filesystem; free space meanwhile.
      const pausing = "svlogd: pausing: unable to write to current: fs/w: out of disk space\n";
      await waitUntil(() => logger.stderr().includes(pausing), { what: "svlogd to pause" });
      await Deno.remove(`${mount}/filler`);
      await within(writing, { what: "the writes to be taken" });
      const { status, stderr } = await logger.done();
      assertEquals(status.code, 0, stderr);
      assertOk(stderr.includes(pausing), stderr);
      assertEquals(readText(`${mount}/w/current`), text);
    } finally {
      await new Deno.Command("umount", { args: [mount] }).output();
    }
  },
);

Deno.test({
  name: "svlogd: KILLed under runsv, the restarted logger loses nothing unread",
  async fn() {
    await using sb = await Sandbox.create();
    const ours = `${await bin()}`;
    const service = await sb.service("gen", {
      run: 'i=0; while [ $i -lt 200000 ]; do echo "line $i"; i=$((i+1)); done; exec sleep 100',
      log: `exec ${ours}/svlogd -tt main`,
    });
    await Deno.mkdir(`${service}/log/main`);
    await Deno.writeTextFile(`${service}/log/main/config`, "s50000\nn0\n");
    const runsv = sb.start(`${ours}/runsv`, [service]);
    const loggerPid = () => pidOf(`${service}/log`);
    // Bytes logged so far: each KILL comes after this logger has written some.
    const logged = () => {
      const dir = `${service}/log/main`;
      return [...Deno.readDirSync(dir)].reduce(
        (sum, entry) => sum + (Deno.statSync(`${dir}/${entry.name}`).size ?? 0),
        0,
      );
    };
    for (let kill = 0; kill < 3; kill++) {
      const pid = await waitUntil(() => loggerPid(), { what: "logger pid" });
      const before = logged();
      await waitUntil(() => logged() > before, { what: "the logger to write" });
      Deno.kill(pid, "SIGKILL");
      await waitUntil(() => loggerPid() !== pid && loggerPid(), { what: "logger restart" });
    }
    const all = () => {
      const dir = `${service}/log/main`;
      return [...rotated(dir), "current"].map((n) => readText(`${dir}/${n}`)).join("");
    };
    // Two equal readings: no rotation ran while the files were read.
    const settled = await waitUntil(() => {
      const first = all();
      return first.includes("line 199999\n") && all() === first ? first : "";
    }, { timeout: 60000, what: "last line" });
    const seen = settled.split("\n").slice(0, -1);
    let previous = -1;
    let lost = 0;
    let lostBytes = 0;
    let fragments = 0;
    for (const line of seen) {
      const stamped = /^\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.\d{5} (.*)$/.exec(line);
      assertOk(stamped, `unstamped line: ${JSON.stringify(line)}`);
      const match = /^line (\d+)$/.exec(stamped[1]);
      if (!match) {
        // The start of this line was in a killed logger's last read: the
        // successor gets its end. At most one per KILL.
        assertMatch(stamped[1], /^(?:ine |ne |e | )?\d*$/, "not the end of a line");
        fragments++;
        continue;
      }
      const n = Number(match[1]);
      assertOk(n > previous, `line ${n} after ${previous}: duplicate or out of order`);
      lost += n - previous - 1;
      for (let gap = previous + 1; gap < n; gap++) lostBytes += `line ${gap}\n`.length;
      previous = n;
    }
    assertOk(fragments <= 3, `${fragments} broken lines`);
    assertEquals(previous, 199999);
    // Only what a killed logger had read but not written can be lost: at
    // most one read (16 KiB) per KILL.
    assertOk(lostBytes <= 3 * 16384, `${lost} lines (${lostBytes} bytes) lost`);
    console.log(`lines lost to 3 KILLs: ${lost} (${lostBytes} bytes of input)`);
    Deno.kill(runsv.pid, "SIGTERM");
  },
});
