/**
 * utmpset against Debian's /usr/sbin/utmpset: each runs in a mount
 * namespace of its own with temp directories bound over /run (where
 * /var/run/utmp lives) and /var/log (wtmp), on copies of the same utmp
 * file. Output, exit code and the resulting utmp and wtmp bytes must be the
 * same, but for the time fields (the runs differ by time), which must hold
 * the time of the run. The real utmp and wtmp are never touched.
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import { bin, exists, type Output, Sandbox, testUnless, waitUntil, within } from "./helpers.ts";
import { type Bind, namespaceSkipReason, runBound, startBound } from "./mount_namespace.ts";
import { blockedIn } from "./proc.ts";
import {
  appendWtmpLogout,
  logoutUtmp,
  UT_TYPE,
  type UtmpLayout,
  utmpLayout,
} from "../src/sys/utmp.ts";
import { AT_FDCWD, closeFd, LOCK, O, openAt, tryLock } from "../src/sys/fs.ts";

const DEBIAN = "/usr/sbin/utmpset";
const LAYOUT = utmpLayout();
const encoder = new TextEncoder();

function skipReason(): string | undefined {
  return namespaceSkipReason({ oracle: DEBIAN });
}

/** One login record's fields (the rest is zero, but for the reserved bytes). */
interface Login {
  type: number;
  pid: number;
  line: string;
  id: string;
  user: string;
  host: string;
  seconds: number;
}

/** A record laid out as glibc's struct utmp, reserved bytes filled to see they are kept. */
function record(login: Login, layout: UtmpLayout = LAYOUT): Uint8Array {
  const bytes = new Uint8Array(layout.size);
  const view = new DataView(bytes.buffer);
  view.setInt16(layout.type, login.type, true);
  view.setInt32(layout.pid, login.pid, true);
  bytes.set(encoder.encode(login.line), layout.line);
  bytes.set(encoder.encode(login.id), layout.id);
  bytes.set(encoder.encode(login.user), layout.user);
  bytes.set(encoder.encode(login.host), layout.host);
  view.setInt16(layout.exit, 3, true);
  view.setInt16(layout.exit + 2, 4, true);
  const word = (at: number, value: number) =>
    layout.wordSize === 8
      ? view.setBigInt64(at, BigInt(value), true)
      : view.setInt32(at, value, true);
  word(layout.session, login.pid);
  word(layout.tvSec, login.seconds);
  word(layout.tvUsec, 123456);
  bytes.set([10, 0, 0, 7], layout.addr);
  bytes.fill(0x52, layout.reserved, layout.size);
  return bytes;
}

const LINE32 = "pts/abcdefghijklmnopqrstuvwxyz12";
const LOGINS: Login[] = [
  { type: UT_TYPE.BOOT_TIME, pid: 0, line: "~", id: "~~", user: "reboot", host: "6.1", seconds: 1 },
  {
    type: UT_TYPE.LOGIN_PROCESS,
    pid: 100,
    line: "tty1",
    id: "1",
    user: "LOGIN",
    host: "",
    seconds: 2,
  },
  {
    type: UT_TYPE.USER_PROCESS,
    pid: 200,
    line: "tty5",
    id: "5",
    user: "alice",
    host: "h.example",
    seconds: 3,
  },
  {
    type: UT_TYPE.USER_PROCESS,
    pid: 300,
    line: "pts/0",
    id: "ts/0",
    user: "bob",
    host: "remote",
    seconds: 4,
  },
  {
    type: UT_TYPE.USER_PROCESS,
    pid: 400,
    line: "tty5x",
    id: "5x",
    user: "carol",
    host: "",
    seconds: 5,
  },
  { type: UT_TYPE.DEAD_PROCESS, pid: 500, line: "tty6", id: "6", user: "", host: "", seconds: 6 },
  {
    type: UT_TYPE.USER_PROCESS,
    pid: 600,
    line: LINE32,
    id: "",
    user: "dave",
    host: "",
    seconds: 7,
  },
];

/** The starting utmp: the records above and, as a crash may leave, a partial one. */
function startingUtmp(): Uint8Array {
  const records = LOGINS.map((login) => record(login));
  const all = new Uint8Array(records.length * LAYOUT.size + 100);
  records.forEach((bytes, index) => all.set(bytes, index * LAYOUT.size));
  all.fill(0x55, records.length * LAYOUT.size);
  return all;
}

/** What a run leaves: its output and the two files (undefined when absent). */
interface Result {
  output: Output;
  utmp?: Uint8Array;
  wtmp?: Uint8Array;
  /** wtmp's permission bits. */
  wtmpMode?: number;
}

/** Copies of the files one run works on, and the binds that put them in place. */
interface Setup {
  /** Write a utmp (default the starting one); false: none. */
  utmp?: Uint8Array | false;
  /** Bytes of an existing wtmp (default empty); false: none. */
  wtmp?: Uint8Array | false;
  /** Bind /dev/full over wtmp. */
  fullWtmp?: boolean;
  /** Make /run read-only. */
  readOnlyRun?: boolean;
}

function prepare(root: string, setup: Setup): Bind[] {
  Deno.mkdirSync(`${root}/run`, { recursive: true });
  Deno.mkdirSync(`${root}/log`);
  if (setup.utmp !== false) Deno.writeFileSync(`${root}/run/utmp`, setup.utmp ?? startingUtmp());
  if (setup.wtmp !== false) Deno.writeFileSync(`${root}/log/wtmp`, setup.wtmp ?? new Uint8Array());
  const binds: Bind[] = [
    { source: `${root}/run`, target: "/run", readOnly: setup.readOnlyRun },
    { source: `${root}/log`, target: "/var/log" },
  ];
  if (setup.fullWtmp) binds.push({ source: "/dev/full", target: "/var/log/wtmp" });
  return binds;
}

function readIf(path: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch {
    return undefined;
  }
}

async function runOne(sb: Sandbox, command: string, args: string[], setup: Setup): Promise<Result> {
  const root = `${sb.dir}/${crypto.randomUUID()}`;
  const output = await runBound(sb, prepare(root, setup), [command, ...args]);
  const wtmp = readIf(`${root}/log/wtmp`);
  return {
    output,
    utmp: readIf(`${root}/run/utmp`),
    wtmp,
    wtmpMode: wtmp && (Deno.statSync(`${root}/log/wtmp`).mode ?? 0) & 0o7777,
  };
}

/** Each record's tv_sec, and the bytes with those fields zeroed. */
function maskTimes(bytes: Uint8Array | undefined): { masked?: number[]; seconds: number[] } {
  if (bytes === undefined) return { seconds: [] };
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  const seconds: number[] = [];
  for (let at = 0; at + LAYOUT.size <= copy.length; at += LAYOUT.size) {
    const field = at + LAYOUT.tvSec;
    seconds.push(
      LAYOUT.wordSize === 8 ? Number(view.getBigInt64(field, true)) : view.getInt32(field, true),
    );
    copy.fill(0, field, field + LAYOUT.wordSize);
  }
  return { masked: [...copy], seconds };
}

/**
 * Run ours and Debian's on copies of the same files and assert the same
 * output and bytes, time fields aside; those must be the starting ones or
 * the time of the run. Returns ours.
 */
async function same(sb: Sandbox, args: string[], setup: Setup = {}): Promise<Result> {
  const program = `${await bin()}/utmpset`;
  const start = Math.floor(Date.now() / 1000);
  const [ours, theirs] = await Promise.all([
    runOne(sb, program, args, setup),
    runOne(sb, DEBIAN, args, setup),
  ]);
  const end = Math.ceil(Date.now() / 1000);
  const what = `utmpset ${args.join(" ")}`;
  theirs.output.stderr = theirs.output.stderr.replaceAll(DEBIAN, program)
    .replace(/^\$Id: \S+ \$$/m, "$Id: runit-deno 0.1.0 $");
  assertEquals(ours.output, theirs.output, what);
  assertEquals(ours.wtmpMode, theirs.wtmpMode, `${what}: wtmp mode`);
  for (const file of ["utmp", "wtmp"] as const) {
    const [a, b] = [maskTimes(ours[file]), maskTimes(theirs[file])];
    assertEquals(a.masked, b.masked, `${what}: ${file} bytes`);
    const initial = file === "utmp" ? setup.utmp ?? startingUtmp() : setup.wtmp;
    const before = maskTimes(initial || undefined).seconds;
    for (const [index, seconds] of a.seconds.entries()) {
      if (seconds === before[index] && b.seconds[index] === seconds) continue;
      assertOk(
        seconds >= start && seconds <= end,
        `${what}: ${file} record ${index} time ${seconds}`,
      );
      assertOk(b.seconds[index] >= start && b.seconds[index] <= end, `${what}: Debian's time`);
    }
  }
  return ours;
}

/** The record at `index` of a file. */
function recordAt(bytes: Uint8Array | undefined, index: number): Uint8Array {
  assertOk(bytes !== undefined, "the file exists");
  return bytes.subarray(index * LAYOUT.size, (index + 1) * LAYOUT.size);
}

testUnless("utmpset: logs a line out of utmp as Debian's does", skipReason, async () => {
  await using sb = await Sandbox.create();
  const result = await same(sb, ["tty5"]);
  assertEquals(result.output, { code: 0, stdout: "", stderr: "" });
  const changed = recordAt(result.utmp, 2);
  const view = new DataView(changed.buffer, changed.byteOffset);
  assertEquals(view.getInt16(LAYOUT.type, true), UT_TYPE.DEAD_PROCESS);
  assertEquals([...changed.subarray(LAYOUT.user, LAYOUT.host + 256)].every((b) => b === 0), true);
  assertEquals(view.getInt32(LAYOUT.pid, true), 200, "the pid is kept");
  // Only that record changed; no wtmp record without -w.
  const start = startingUtmp();
  for (const index of [0, 1, 3, 4, 5, 6]) {
    assertEquals([...recordAt(result.utmp, index)], [...recordAt(start, index)], `record ${index}`);
  }
  assertEquals(result.wtmp?.length, 0);
  // A login process (user "LOGIN"), a pseudo-terminal, a line that fills the field.
  await same(sb, ["tty1"]);
  await same(sb, ["--", "pts/0"]);
  await same(sb, ["-w", LINE32]);
});

testUnless(
  "utmpset -w: appends the logout record to wtmp as Debian's does",
  skipReason,
  async () => {
    await using sb = await Sandbox.create();
    const earlier = record({ ...LOGINS[2], seconds: 1_000_000 });
    const result = await same(sb, ["-w", "tty5"], { wtmp: earlier });
    assertEquals(result.wtmp?.length, 2 * LAYOUT.size);
    assertEquals([...recordAt(result.wtmp, 0)], [...earlier], "old records are kept");
    const added = recordAt(result.wtmp, 1);
    const expected = record({
      type: UT_TYPE.DEAD_PROCESS,
      pid: 0,
      line: "tty5",
      id: "",
      user: "",
      host: "",
      seconds: 0,
    });
    // A record of zeros but for type, line and time.
    expected.fill(0, LAYOUT.exit);
    const masked = added.slice();
    masked.fill(0, LAYOUT.tvSec, LAYOUT.tvSec + LAYOUT.wordSize);
    assertEquals([...masked], [...expected]);
    // A missing wtmp is created, mode 0600.
    const created = await same(sb, ["-w", "pts/0"], { wtmp: false });
    assertEquals([created.wtmp?.length, created.wtmpMode], [LAYOUT.size, 0o600]);
  },
);

testUnless("utmpset: usage and errors as Debian's", skipReason, async () => {
  await using sb = await Sandbox.create();
  const program = `${await bin()}/utmpset`;
  const usage = `usage: ${program} [-w] line\n\n`;
  const cases: [string[], Setup, number, string][] = [
    [[], {}, 1, usage],
    [["-w"], {}, 1, usage],
    [["-x", "tty5"], {}, 1, `utmpset: illegal option -- x\n${usage}`],
    [["-V"], {}, 1, `$Id: runit-deno 0.1.0 $\n${usage}`],
    // -V acts at once, after -w and before anything later.
    [["-wV", "tty5"], {}, 1, `$Id: runit-deno 0.1.0 $\n${usage}`],
    [["-Vx"], {}, 1, `$Id: runit-deno 0.1.0 $\n${usage}`],
    [
      ["-w", "nope"],
      {},
      111,
      "utmpset: warning: unable to logout line nope in utmp: no such entry\n",
    ],
    // A record without a user is no login: a second logout finds nothing.
    [["tty6"], {}, 111, "utmpset: warning: unable to logout line tty6 in utmp: no such entry\n"],
    [["tty5", "extra"], {}, 0, ""],
    [[""], {}, 111, "utmpset: warning: unable to logout line  in utmp: no such entry\n"],
    [
      ["-w", "tty5"],
      { utmp: false },
      111,
      "utmpset: fatal: unable to open /var/run/utmp: file does not exist\n",
    ],
    [
      ["tty5"],
      { readOnlyRun: true },
      111,
      "utmpset: fatal: unable to open /var/run/utmp: read-only file system\n",
    ],
    // The write fails (ENOSPC), then so does the truncation (EINVAL): runit reports the last.
    [
      ["-w", "tty5"],
      { fullWtmp: true },
      111,
      "utmpset: warning: unable to logout line tty5 in wtmp: invalid argument\n",
    ],
  ];
  for (const [args, setup, code, stderr] of cases) {
    const result = await same(sb, args, setup);
    assertEquals(result.output, { code, stdout: "", stderr }, `utmpset ${args.join(" ")}`);
  }
});

testUnless("utmpset: waits for the utmp lock (flock), as Debian's does", skipReason, async () => {
  await using sb = await Sandbox.create();
  for (const command of [`${await bin()}/utmpset`, DEBIAN]) {
    const root = `${sb.dir}/${crypto.randomUUID()}`;
    const binds = prepare(root, {});
    let holder = openAt(AT_FDCWD, `${root}/run/utmp`, { flags: O.RDONLY | O.CLOEXEC });
    try {
      assertEquals(tryLock(holder, LOCK.EX), true);
      const waiter = startBound(sb, binds, [command, "tty5"]);
      await waitUntil(() => blockedIn(waiter.pid, "flock"), { what: `${command} to wait` });
      closeFd(holder);
      holder = -1;
      assertEquals(await within(waiter.done, { what: `${command} to finish` }), {
        code: 0,
        stdout: "",
        stderr: "",
      });
    } finally {
      closeFd(holder);
    }
    const changed = recordAt(Deno.readFileSync(`${root}/run/utmp`), 2);
    assertEquals(
      new DataView(changed.buffer, changed.byteOffset).getInt16(0, true),
      UT_TYPE.DEAD_PROCESS,
    );
  }
});

// runit 2.3.0 refuses a line longer than ut_line (Debian's 2.1.2 looks for it and finds none).
testUnless("utmpset: a line longer than the field is refused", skipReason, async () => {
  await using sb = await Sandbox.create();
  const line = `${LINE32}3`;
  const result = await runOne(sb, `${await bin()}/utmpset`, ["-w", line], {});
  assertEquals(result.output, {
    code: 111,
    stdout: "",
    stderr: `utmpset: fatal: unable to logout line ${line} in utmp: name too long\n`,
  });
  assertEquals([...result.utmp ?? []], [...startingUtmp()]);
  assertEquals(result.wtmp?.length, 0);
});

Deno.test("utmp: the layout is glibc's struct utmp on this machine (gcc's offsetof)", {
  ignore: !gccAvailable(),
}, async () => {
  await using sb = await Sandbox.create();
  const source = `${sb.dir}/layout.c`;
  await Deno.writeTextFile(
    source,
    [
      "#include <stdio.h>",
      "#include <stddef.h>",
      "#include <utmp.h>",
      '#define F(f) printf("%zu %zu ", offsetof(struct utmp, f), sizeof(((struct utmp *)0)->f))',
      "int main(void) {",
      '  printf("%zu ", sizeof(struct utmp));',
      "  F(ut_type); F(ut_pid); F(ut_line); F(ut_id); F(ut_user); F(ut_host); F(ut_exit);",
      "  F(ut_session); F(ut_tv.tv_sec); F(ut_tv.tv_usec); F(ut_addr_v6); F(__glibc_reserved);",
      "  return 0;",
      "}",
    ].join("\n"),
  );
  const compiled = await sb.run("gcc", ["-o", `${sb.dir}/layout`, source]);
  assertEquals(compiled.code, 0, compiled.stderr);
  const numbers = (await sb.run(`${sb.dir}/layout`, [])).stdout.trim().split(" ").map(Number);
  const l = LAYOUT;
  const w = l.wordSize;
  assertEquals(numbers, [
    l.size,
    ...[l.type, 2, l.pid, 4, l.line, 32, l.id, 4, l.user, 32, l.host, 256, l.exit, 4],
    ...[l.session, w, l.tvSec, w, l.tvUsec, w, l.addr, 16, l.reserved, 20],
  ]);
});

function gccAvailable(): boolean {
  return exists("/usr/bin/gcc") && exists("/usr/include/utmp.h");
}

// The other architecture's layout, through the same code on temp files (no namespace).
Deno.test("utmp: logout and wtmp records in aarch64's 400-byte layout", async () => {
  await using sb = await Sandbox.create();
  const layout = utmpLayout("aarch64");
  const other = utmpLayout("x86_64");
  assertEquals([layout.size, other.size], [400, 384]);
  const utmp = `${sb.dir}/utmp`;
  const logins = LOGINS.slice(1, 4);
  Deno.writeFileSync(utmp, new Uint8Array(logins.flatMap((login) => [...record(login, layout)])));
  const line = encoder.encode("pts/0");
  assertEquals(await logoutUtmp(line, { path: utmp, layout, now: 2_000_000_000 }), true);
  const bytes = Deno.readFileSync(utmp);
  const changed = new DataView(bytes.buffer, 2 * layout.size);
  assertEquals(changed.getInt16(layout.type, true), UT_TYPE.DEAD_PROCESS);
  assertEquals(changed.getBigInt64(layout.tvSec, true), 2_000_000_000n);
  assertEquals(changed.getBigInt64(layout.tvUsec, true), 123456n, "microseconds are kept");
  assertEquals(changed.getBigInt64(layout.session, true), 300n);
  assertEquals([...bytes.subarray(0, 2 * layout.size)], [
    ...record(logins[0], layout),
    ...record(logins[1], layout),
  ]);
  // Logged out already: no user, so no entry.
  assertEquals(await logoutUtmp(line, { path: utmp, layout }), false);
  const wtmp = `${sb.dir}/wtmp`;
  await appendWtmpLogout(line, { path: wtmp, layout, now: 2_000_000_001 });
  const appended = Deno.readFileSync(wtmp);
  assertEquals(appended.length, 400);
  const view = new DataView(appended.buffer);
  assertEquals(view.getBigInt64(layout.tvSec, true), 2_000_000_001n);
  assertMatch(
    new TextDecoder().decode(appended.subarray(layout.line, layout.line + 5)),
    /^pts\/0$/,
  );
  // One byte of type 8, five of the line, four of the time: all else is zero.
  assertEquals(appended.filter((byte) => byte !== 0).length, 1 + 5 + 4);
});
