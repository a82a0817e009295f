/**
 * Hosted logging (src/svlog/host.ts): our runsv hosts the svlogd its
 * `log/run` starts, and everything svlogd promises still holds: the same
 * bytes as Debian's svlogd, files owned by the logger's user, the meaning of
 * every `sv` command sent to the log service, an honest `sv status`, and
 * the processor fallback.
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import {
  alive,
  bin,
  hasDebianRunit,
  hasSysAdmin,
  normalizeStatus,
  pidOf,
  readText,
  Sandbox,
  testUnless,
  waitRunning,
  waitUntil,
  within,
} from "./helpers.ts";
import { isPlaceholder } from "./proc.ts";
import { type Case, CASES, logDirs, normalize, runWith, snapshot } from "./svlog_cases.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const DEBIAN = "/usr/bin/svlogd";
const debian = hasDebianRunit();

/** Whether `pid` runs Deno (a standalone svlogd). */
function isDeno(pid: number): boolean {
  try {
    return Deno.readLinkSync(`/proc/${pid}/exe`) === Deno.execPath();
  } catch {
    return false;
  }
}

async function startRunsv(sb: Sandbox, dir: string) {
  const started = sb.start(`${await bin()}/runsv`, [dir]);
  await waitUntil(() => readText(`${dir}/supervise/stat`) !== "", { what: "runsv to start" });
  return started;
}

/** Wait for the log service of `dir` to be hosted (not `not`); its placeholder's pid. */
async function hostedLog(dir: string, options: { not?: number } = {}): Promise<number> {
  return await waitUntil(() => {
    const pid = pidOf(`${dir}/log`);
    return pid > 0 && pid !== options.not && isPlaceholder(pid) ? pid : 0;
  }, { what: `${dir}/log to be hosted` });
}

/**
 * A service `svc` running `run`, logged by our svlogd into `log/main`, under
 * our runsv: its directory, the log directory, runsv, and the hosted log's pid.
 */
async function hostedService(sb: Sandbox, run: string, options: { down?: boolean } = {}) {
  const dir = await sb.service("svc", {
    run,
    log: `exec ${await bin()}/svlogd main`,
    down: options.down,
  });
  const main = `${dir}/log/main`;
  await Deno.mkdir(main);
  const runsv = await startRunsv(sb, dir);
  return { dir, main, runsv, logger: await hostedLog(dir) };
}

async function sv(sb: Sandbox, ...args: string[]) {
  return await sb.run(`${await bin()}/sv`, args);
}

function rotated(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("@")).sort();
}

/** Every line in a log directory, oldest first. */
function allLines(dir: string): string[] {
  return [...rotated(dir), "current"].map((name) => readText(`${dir}/${name}`)).join("")
    .split("\n").slice(0, -1);
}

/** Debian's svlogd on `test` (standalone), and ours hosted by our runsv. */
async function hostedPair(sb: Sandbox, name: string, test: Case): Promise<[string, string]> {
  const input = typeof test.input === "string" ? encoder.encode(test.input) : test.input;
  await Deno.writeFile(`${sb.dir}/${name}.input`, input);
  const results: string[] = [];
  for (const which of ["debian", "hosted"]) {
    const root = which === "debian" ? `${sb.dir}/${name}-debian` : `${sb.dir}/${name}/log`;
    const dirs = await logDirs(root, test);
    let stderr: string;
    if (which === "debian") {
      const theirs = await runWith(DEBIAN, [...test.args, ...dirs], { cwd: root, input });
      stderr = theirs.stderr.replaceAll(DEBIAN, "svlogd");
    } else {
      const ours = await bin();
      const dir = await sb.service(name, {
        // The input, then a wait for `sv exit`: end of input comes with it.
        run: `cat ../${name}.input\nexec sleep 1000`,
        log: `exec ${ours}/svlogd ${test.args.map((arg) => `'${arg}'`).join(" ")} ${
          dirs.join(" ")
        }`,
      });
      const runsv = await startRunsv(sb, dir);
      await hostedLog(dir);
      await waitUntil(() => readText(`/proc/${pidOf(dir)}/comm`) === "sleep\n", {
        what: "the input written",
      });
      await sv(sb, "exit", dir);
      const done = await within(runsv.done, { what: "runsv to exit" });
      assertEquals(done.code, 0, done.stderr);
      stderr = done.stderr.replaceAll(`${ours}/svlogd`, "svlogd");
    }
    results.push(
      `stderr:\n${normalize(stderr)}\n` +
        dirs.map((d) => snapshot(`${root}/${d}`)).join("\n===\n"),
    );
  }
  return [results[0], results[1]];
}

for (const [name, test] of Object.entries(CASES)) {
  Deno.test({
    name: `loghost: hosted, the same bytes as Debian's svlogd: ${name}`,
    ignore: !debian,
    async fn() {
      await using sb = await Sandbox.create();
      const [expected, actual] = await hostedPair(sb, name.replace(/\W+/g, "_"), test);
      assertEquals(actual, expected);
    },
  });
}

Deno.test("loghost: sv alarm, hup, term and kill on a hosted log", async () => {
  await using sb = await Sandbox.create();
  const { dir, main, runsv, logger: first } = await hostedService(
    sb,
    'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.02; done',
  );
  // The placeholder is the log service: its pid in both sv's status, as svlogd.
  const status = await sv(sb, "status", dir);
  assertMatch(status.stdout, new RegExp(`; run: log: \\(pid ${first}\\) \\d+s\\n$`));
  if (debian) {
    const theirs = await sb.run("/usr/bin/sv", ["status", dir]);
    assertEquals(normalizeStatus(theirs.stdout), normalizeStatus(status.stdout));
    assertMatch(theirs.stdout, new RegExp(`; run: log: \\(pid ${first}\\) \\d+s\\n$`));
  }
  assertEquals(readText(`/proc/${first}/comm`), "svlogd\n");
  assertMatch(readText(`/proc/${first}/cmdline`), /svlogd\0main\0$/);
  await waitUntil(() => readText(`${main}/current`).includes("line 3\n"), { what: "lines" });

  // alarm: rotate now.
  await sv(sb, "alarm", `${dir}/log`);
  await waitUntil(() => rotated(main).length === 1, { what: "rotation on alarm" });
  assertMatch(readText(`${main}/${rotated(main)[0]}`), /^line 1\n(line \d+\n)*$/);

  // hup: reread config (a prefix shows).
  await Deno.writeTextFile(`${main}/config`, "pHUP: \n");
  await sv(sb, "hup", `${dir}/log`);
  await waitUntil(() => readText(`${main}/current`).includes("HUP: line"), { what: "prefix" });
  assertEquals(pidOf(`${dir}/log`), first, "hup does not restart the log service");

  // term (restart): a new placeholder, config read afresh.
  await Deno.writeTextFile(`${main}/config`, "pTERM: \n");
  await sv(sb, "term", `${dir}/log`);
  const second = await hostedLog(dir, { not: first });
  assertOk(!alive(first));
  await waitUntil(() => readText(`${main}/current`).includes("TERM: line"), { what: "prefix" });

  // kill: the same, and the next one takes over.
  await sv(sb, "kill", `${dir}/log`);
  const third = await hostedLog(dir, { not: second });
  const before = readText(`${main}/current`).length;
  await waitUntil(() => readText(`${main}/current`).length > before, { what: "logging on" });
  assertOk(third !== second);

  // Every line once, in order, across all of it.
  const numbers = allLines(main).map((line) => Number(/line (\d+)$/.exec(line)![1]));
  numbers.forEach((n, index) => assertEquals(n, index + 1, "a line lost or repeated"));
  await sv(sb, "exit", dir);
  assertEquals((await within(runsv.done, { what: "runsv to exit" })).code, 0);
  assertOk(!alive(third));
});

Deno.test("loghost: sv down log stops reading (the service blocks, nothing is lost); up resumes", async () => {
  await using sb = await Sandbox.create();
  const count = 200_000;
  const { dir, main, logger } = await hostedService(
    sb,
    `i=0; while [ $i -lt ${count} ]; do i=$((i+1)); echo "$i"; done; echo done > finished\n` +
      "exec sleep 1000",
    { down: true },
  );
  await sv(sb, "down", `${dir}/log`);
  await waitUntil(() => !alive(logger), { what: "the log service down" });
  assertMatch((await sv(sb, "status", dir)).stdout, /; down: log: \d+s, normally up\n$/);
  await sv(sb, "up", dir);
  const writer = await waitRunning(dir);
  // Nobody reads: the writer blocks once the pipe is full.
  await waitUntil(() => /pipe_(write|wait)/.test(readText(`/proc/${writer}/wchan`)), {
    what: "the writer to block",
  });
  const stopped = readText(`${main}/current`).length;
  assertOk(readText(`${dir}/finished`) === "");
  await sv(sb, "up", `${dir}/log`);
  await hostedLog(dir, { not: logger });
  await waitUntil(() => readText(`${dir}/finished`) !== "", { what: "the writer to finish" });
  await waitUntil(() => allLines(main).length === count, { what: "every line" });
  assertOk(readText(`${main}/current`).length > stopped);
  allLines(main).forEach((line, index) => assertEquals(line, `${index + 1}`));
});

Deno.test("loghost: sv pause log stops reading, cont resumes", async () => {
  await using sb = await Sandbox.create();
  const { dir, main, logger } = await hostedService(
    sb,
    'i=0; while :; do i=$((i+1)); echo "$i"; echo $i > count; sleep 0.02; done',
  );
  await waitUntil(() => readText(`${main}/current`).includes("\n3\n"), { what: "lines" });
  await sv(sb, "pause", `${dir}/log`);
  await waitUntil(() => readText(`/proc/${logger}/stat`).split(" ")[2] === "T", {
    what: "the placeholder stopped",
  });
  // runsv writes the status after the signal.
  await waitUntil(() => readText(`${dir}/log/supervise/stat`) === "run, paused\n", {
    what: "the status to say paused",
  });
  const paused = readText(`${main}/current`);
  const written = Number(readText(`${dir}/count`));
  await waitUntil(() => Number(readText(`${dir}/count`)) > written + 10, { what: "more output" });
  assertEquals(readText(`${main}/current`), paused, "logged while paused");
  await sv(sb, "cont", `${dir}/log`);
  const later = Number(readText(`${dir}/count`));
  await waitUntil(() => readText(`${main}/current`).includes(`\n${later}\n`), {
    what: "logging again",
  });
  assertEquals(pidOf(`${dir}/log`), logger);
});

Deno.test({
  name:
    "loghost: chpst -u nobody: files belong to nobody; a directory nobody cannot use fails as before",
  ignore: Deno.uid() !== 0,
  async fn() {
    await using sb = await Sandbox.create();
    await Deno.chmod(sb.dir, 0o755);
    const ours = await bin();
    const dir = await sb.service("svc", {
      run: 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.02; done',
      log: `exec ${ours}/chpst -u nobody ${ours}/svlogd -tt main`,
    });
    const main = `${dir}/log/main`;
    await Deno.mkdir(main);
    await Deno.chown(main, 65534, 65534);
    await startRunsv(sb, dir);
    const logger = await hostedLog(dir);
    assertEquals(readText(`/proc/${logger}/status`).match(/^Uid:\s+(\d+)/m)?.[1], "65534");
    await waitUntil(() => readText(`${main}/current`).includes("line 2"), { what: "lines" });
    await sv(sb, "alarm", `${dir}/log`);
    await waitUntil(() => rotated(main).length === 1, { what: "rotation" });
    await waitUntil(() => readText(`${main}/current`) !== "", { what: "the new current" });
    for (const name of [...rotated(main), "current", "lock"]) {
      const stat = Deno.statSync(`${main}/${name}`);
      assertEquals([name, stat.uid, stat.gid], [name, 65534, 65534]);
    }

    // A directory nobody cannot write: the same messages as our svlogd on its own.
    const locked = await sb.service("locked", {
      run: "exec sleep 1000",
      log: `exec ${ours}/chpst -u nobody ${ours}/svlogd -tt main`,
    });
    await Deno.mkdir(`${locked}/log/main`);
    const alone = await sb.run(`${ours}/chpst`, ["-u", "nobody", `${ours}/svlogd`, "main"], {
      cwd: `${locked}/log`,
    });
    assertEquals(alone.code, 111);
    const runsv = await startRunsv(sb, locked);
    await waitUntil(() => readText(`${locked}/log/supervise/stat`) !== "", { what: "log" });
    await sv(sb, "exit", locked);
    const done = await within(runsv.done, { what: "runsv to exit" });
    assertOk(done.stderr.startsWith(alone.stderr), `${done.stderr} / ${alone.stderr}`);
    assertEquals(readText(`${locked}/log/main/current`), "");
  },
});

Deno.test("loghost: a processor in config keeps svlogd a process of its own", async () => {
  await using sb = await Sandbox.create();
  // Hosted first; a HUP that brings a processor ends the hosting.
  const { dir, main, logger: hosted } = await hostedService(
    sb,
    'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.02; done',
  );
  await waitUntil(() => readText(`${main}/current`).includes("line 2\n"), { what: "lines" });
  await Deno.writeTextFile(`${main}/config`, "!tr a-z A-Z\n");
  await sv(sb, "hup", `${dir}/log`);
  const standalone = await waitUntil(() => {
    const pid = pidOf(`${dir}/log`);
    return pid !== hosted && isDeno(pid) ? pid : 0;
  }, { what: "a standalone svlogd" });
  assertOk(!isPlaceholder(standalone));
  const before = readText(`${main}/current`).length;
  await waitUntil(() => readText(`${main}/current`).length > before, { what: "logging on" });
  await sv(sb, "alarm", `${dir}/log`);
  await waitUntil(() => rotated(main).some((name) => name.endsWith(".s")), {
    what: "a processed file",
  });
  const processed = rotated(main).find((name) => name.endsWith(".s"))!;
  assertMatch(readText(`${main}/${processed}`), /^(LINE \d+\n)+$/);
  const numbers = allLines(main).map((line) => Number(/(\d+)$/.exec(line)![1]));
  numbers.forEach((n, index) => assertEquals(n, index + 1, "a line lost or repeated"));
  assertEquals(pidOf(`${dir}/log`), standalone);
});

Deno.test("loghost: the -v messages and e lines of a hosted svlogd reach its stderr", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", {
    run: "echo 'error: one'\necho 'fine'\nexec sleep 1000",
    log: `exec 2>errors\nexec ${await bin()}/svlogd -v main`,
  });
  await Deno.mkdir(`${dir}/log/main`);
  await Deno.writeTextFile(`${dir}/log/main/config`, "e*error*\n");
  await startRunsv(sb, dir);
  await hostedLog(dir);
  await waitUntil(() => readText(`${dir}/log/main/current`) === "error: one\nfine\n", {
    what: "the lines",
  });
  await sv(sb, "alarm", `${dir}/log`);
  await waitUntil(() => /svlogd: info: rename: /.test(readText(`${dir}/log/errors`)), {
    what: "the rotation message",
  });
  const errors = readText(`${dir}/log/errors`);
  assertMatch(errors, /^svlogd: info: read: main\/config\n/);
  assertMatch(errors, /\nerror: one\n/);
  assertMatch(errors, /\nsvlogd: info: sigalarm received\.\n/);
  assertMatch(errors, /svlogd: info: rename: main\/current @[0-9a-f]{24}\.s 16\n/);
});

testUnless(
  "loghost: a full filesystem: the hosted logger stops reading, loses nothing, and runsv goes on",
  hasSysAdmin() ? undefined : "mounting a tmpfs needs root with CAP_SYS_ADMIN",
  async () => {
    await using sb = await Sandbox.create();
    const total = 8000;
    const dir = await sb.service("svc", {
      run: `i=0; while [ $i -lt ${total} ]; do i=$((i+1)); echo "line $i padding-padding"; done\n` +
        "echo done > finished; exec sleep 1000",
      log: `exec 2>errors\nexec ${await bin()}/svlogd fs/w`,
      down: true,
    });
    const mount = `${dir}/log/fs`;
    await Deno.mkdir(mount);
    const mounted = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mount],
    }).output();
    assertOk(mounted.success, `mount: ${decoder.decode(mounted.stderr)}`);
    try {
      await Deno.mkdir(`${mount}/w`);
      await Deno.writeTextFile(`${mount}/w/config`, "s0\n");
      await Deno.writeFile(`${mount}/filler`, new Uint8Array(400 * 1024));
      const runsv = await startRunsv(sb, dir);
      await hostedLog(dir);
      await sv(sb, "up", dir);
      const pausing = "svlogd: pausing: unable to write to current: fs/w: out of disk space\n";
      await waitUntil(() => readText(`${dir}/log/errors`).includes(pausing), {
        what: "the logger to pause",
      });
      // The supervisor is not blocked meanwhile: it answers at once.
      const started = Date.now();
      const status = await sv(sb, "status", dir);
      assertMatch(status.stdout, /^run: .*; run: log: /);
      assertOk(Date.now() - started < 1500, `sv status took ${Date.now() - started} ms`);
      await Deno.remove(`${mount}/filler`);
      await waitUntil(() => readText(`${dir}/finished`) !== "", { what: "the writer to finish" });
      await waitUntil(() => allLines(`${mount}/w`).length === total, {
        what: "every line",
        timeout: 20_000,
      });
      allLines(`${mount}/w`).forEach((line, index) =>
        assertEquals(line, `line ${index + 1} padding-padding`)
      );
      await sv(sb, "exit", dir);
      await within(runsv.done, { what: "runsv to exit" });
    } finally {
      await new Deno.Command("umount", { args: ["-l", mount] }).output();
    }
  },
);
