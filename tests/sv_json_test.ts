import { assertEquals } from "./assert.ts";
import { readStatus } from "../mod.ts";
import { getopt } from "../src/cli/getopt.ts";
import {
  alive,
  bin,
  debianTest,
  pidOf,
  readText,
  Sandbox,
  waitRunning,
  waitUntil,
} from "./helpers.ts";

/** The JSON Lines of sv's stdout. */
function lines(stdout: string): Record<string, any>[] {
  return stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

const FIELDS = [
  "name",
  "path",
  "state",
  "pid",
  "uptime",
  "since",
  "want",
  "paused",
  "gotTerm",
  "normallyUp",
  "notify",
  "ready",
  "statusText",
];

/** Drop the fields that move between two reads (seconds). */
function steady(object: Record<string, any> | null): Record<string, any> | null {
  if (object === null) return null;
  const { uptime: _, ...rest } = object;
  if (rest.log) rest.log = steady(rest.log);
  return rest;
}

Deno.test("getopt: named long flags among the options, runit's parsing otherwise", () => {
  const parse = (...args: string[]) =>
    getopt(args, "w:vV", { program: "sv", long: ["json"], quiet: true });
  assertEquals(parse("--json", "-w", "3", "status", "web").options, [
    { name: "json" },
    { name: "w", value: "3" },
  ]);
  assertEquals(parse("-v", "--json", "status").operands, ["status"]);
  assertEquals(parse("--jsonx", "status").ok, false); // any other word is still illegal
  assertEquals(getopt(["--json", "s"], "w:vV", { program: "sv", quiet: true }).ok, false);
  assertEquals(parse("status", "--json", "web").operands, ["status", "--json", "web"]);
});

Deno.test("sv status --json: one line per service, the fields of mod.ts's readStatus", async () => {
  await using sb = await Sandbox.create();
  const services = `${sb.dir}/services`;
  const web = await sb.service("services/web", {
    run: "exec sleep 100",
    log: "exec cat >/dev/null",
  });
  const db = await sb.service("services/db", { run: "exec sleep 100", down: true });
  const idle = await sb.service("services/idle", { run: "exec sleep 100" });
  // A runsv that was KILLed: supervise/ok is left without a reader.
  const gone = sb.start(`${await bin()}/runsv`, [idle]);
  await waitRunning(idle);
  Deno.kill(gone.pid, "SIGKILL");
  await waitUntil(() => !alive(gone.pid), { what: "runsv to die" });
  sb.start(`${await bin()}/runsv`, [web]);
  sb.start(`${await bin()}/runsv`, [db]);
  await waitRunning(web);
  await waitRunning(`${web}/log`);
  await waitUntil(() => readText(`${db}/supervise/stat`).startsWith("down"), { what: "db" });
  const sv = `${await bin()}/sv`;
  const env = { SVDIR: services };
  // Paused, so that the JSON shows a flag runit prints too.
  assertEquals((await sb.run(sv, ["pause", "web"], { env })).code, 0);
  await waitUntil(() => readText(`${web}/supervise/stat`).includes("paused"), { what: "pause" });

  const result = await sb.run(sv, ["status", "--json", "web", "db", "idle", "none"], { env });
  const [w, d, i, n] = lines(result.stdout);
  assertEquals(result.code, 2); // as plain status: idle (runsv not running) and none
  assertEquals(result.stderr, "");
  assertEquals(Object.keys(w), [...FIELDS, "log"]);
  assertEquals(Object.keys(w.log), FIELDS);
  const info = readStatus(web);
  const expected = (from: typeof info, name: string) => ({
    name,
    path: from.dir,
    state: from.state,
    pid: from.pid ?? null,
    since: from.since.toISOString(),
    want: from.want,
    paused: from.paused,
    gotTerm: from.gotTerm,
    normallyUp: from.normallyUp,
    notify: null,
    ready: null,
    statusText: null,
  });
  assertEquals(steady(w), { ...expected(info, "web"), log: expected(info.log!, "web/log") });
  assertEquals(w.pid, pidOf(web));
  assertEquals(w.paused, true);
  assertEquals(w.path, `${services}/web`);
  assertEquals(typeof w.uptime, "number");
  assertEquals(steady(d), { ...expected(readStatus(db), "db"), log: null });
  assertEquals([d.state, d.pid, d.normallyUp, d.want], ["down", null, false, "down"]);
  assertEquals(i, { name: "idle", path: `${services}/idle`, error: "runsv not running" });
  assertEquals(n, {
    name: "none",
    path: `${services}/none`,
    error: "unable to change to service directory: file does not exist",
  });
  // The option before the command says the same; plain status is unchanged.
  const before = await sb.run(sv, ["--json", "status", "web"], { env });
  assertEquals(steady(lines(before.stdout)[0]), steady(w));
  assertEquals(before.code, 0);
  const plain = await sb.run(sv, ["status", "web"], { env });
  assertEquals(plain.stdout.startsWith("run: web: (pid "), true);
  // --json is for status and check only.
  const up = await sb.run(sv, ["--json", "up", "web"], { env });
  assertEquals([up.code, up.stdout], [100, ""]);
});

Deno.test("sv status --json: an unsupervised log/, LSB exit codes", async () => {
  await using sb = await Sandbox.create();
  const services = `${sb.dir}/services`;
  const web = await sb.service("services/web", { run: "exec sleep 100" });
  sb.start(`${await bin()}/runsv`, [web]);
  await waitRunning(web);
  // log/ made after runsv started: nothing supervises it.
  await Deno.mkdir(`${web}/log`);
  const sv = `${await bin()}/sv`;
  const env = { SVDIR: services };
  const result = await sb.run(sv, ["status", "--json", "web"], { env });
  const plain = await sb.run(sv, ["status", "web"], { env });
  assertEquals([result.code, plain.code], [1, 1]);
  const [w] = lines(result.stdout);
  assertEquals(w.state, "run");
  assertEquals(w.log, {
    name: "web/log",
    path: `${services}/web/log`,
    error: "unable to open supervise/ok: file does not exist",
  });
  // LSB mode (/etc/init.d/web): 0 running, 3 down, 1 not there.
  await Deno.remove(`${web}/log`);
  await Deno.symlink(sv, `${sb.dir}/web`);
  const lsb = () => sb.run(`${sb.dir}/web`, ["status", "--json"], { env });
  const running = await lsb();
  assertEquals([running.code, lines(running.stdout)[0].state], [0, "run"]);
  assertEquals((await sb.run(sv, ["-w", "5", "down", "web"], { env })).code, 0);
  const down = await lsb();
  assertEquals([down.code, lines(down.stdout)[0].state], [3, "down"]);
  await Deno.symlink(sv, `${sb.dir}/gone`);
  const gone = await sb.run(`${sb.dir}/gone`, ["status", "--json"], { env });
  assertEquals(gone.code, 1);
  assertEquals(
    lines(gone.stdout)[0].error,
    "unable to change to service directory: file does not exist",
  );
});

Deno.test("sv check --json: ok when done, timeout when ./check keeps failing", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 100" });
  await sb.script(`${dir}/check`, "test -e ready");
  sb.start(`${await bin()}/runsv`, [dir]);
  await waitRunning(dir);
  const sv = `${await bin()}/sv`;
  const timeout = await sb.run(sv, ["-w", "1", "--json", "check", dir]);
  const [t] = lines(timeout.stdout);
  assertEquals([timeout.code, t.check, t.state, t.pid], [1, "timeout", "run", pidOf(dir)]);
  await Deno.writeTextFile(`${dir}/ready`, "");
  const ok = await sb.run(sv, ["-w", "3", "check", "--json", dir]);
  const [o] = lines(ok.stdout);
  assertEquals([ok.code, o.check, o.name, o.log], [0, "ok", dir, null]);
  assertEquals(Object.keys(o), [...FIELDS, "log", "check"]);
});

debianTest(
  "sv status --json: against Debian's runsv",
  async () => {
    await using sb = await Sandbox.create();
    const web = await sb.service("web", { run: "exec sleep 100", log: "exec cat >/dev/null" });
    sb.start("/usr/bin/runsv", [web]);
    await waitRunning(web);
    await waitRunning(`${web}/log`);
    const result = await sb.run(`${await bin()}/sv`, ["status", "--json", web]);
    const [w] = lines(result.stdout);
    assertEquals(result.code, 0);
    assertEquals([w.state, w.pid, w.log.state, w.log.pid], [
      "run",
      pidOf(web),
      "run",
      pidOf(`${web}/log`),
    ]);
    const info = readStatus(web);
    assertEquals(w.since, info.since.toISOString());
    assertEquals(w.log.since, info.log!.since.toISOString());
  },
);
