import { assertEquals, assertMatch } from "./assert.ts";
import { formatStatus, servicePath } from "../src/sv.ts";
import { planCommand } from "../src/supervise/command.ts";
import { alive, bin, normalizeStatus, readText, Sandbox, waitUntil } from "./helpers.ts";

Deno.test("sv: service name rules", () => {
  assertEquals(servicePath("web", "/etc/service/"), "/etc/service/web");
  assertEquals(servicePath("web", "/srv"), "/srv/web");
  assertEquals(servicePath("./web", "/srv"), "./web");
  assertEquals(servicePath("/abs/web", "/srv"), "/abs/web");
  assertEquals(servicePath("rel/web/", "/srv"), "rel/web/");
  assertEquals(servicePath("rel/web", "/srv"), "/srv/rel/web");
});

Deno.test("sv: commands map to runit's control characters", () => {
  const plan = (action: string, verbose = false, lsb = false) =>
    planCommand(action, { lsb, verbose });
  assertEquals(plan("restart")?.acts, "tcu");
  assertEquals(plan("force-restart")?.kill, true);
  assertEquals(plan("try-restart")?.acts, "tc");
  assertEquals(plan("term")?.acts, "t");
  assertEquals(plan("check")?.send, false);
  assertEquals(plan("e")?.acts, "x");
  assertEquals(plan("shutdown")?.wait, true);
  assertEquals(plan("up")?.wait, false);
  assertEquals(plan("up", true)?.wait, true);
  assertEquals(plan("stat")?.status, true); // sv looks at the first character only
  assertEquals(plan("stat", false, true), undefined); // except in LSB mode
  assertEquals(plan("rewind"), undefined);
  assertEquals(plan("force-nothing"), undefined);
});

Deno.test("sv: status line flags", () => {
  const base = { sec: 100, nsec: 0, pid: 9, paused: false, want: "up", gotTerm: false } as const;
  const line = (status: object, normallyUp = true) =>
    formatStatus("x", { ...base, state: "run", ...status }, { now: 110, normallyUp }).text;
  assertEquals(line({}), "run: x: (pid 9) 10s");
  assertEquals(line({}, false), "run: x: (pid 9) 10s, normally down");
  assertEquals(
    line({ paused: true, want: "down", gotTerm: true }),
    "run: x: (pid 9) 10s, paused, want down, got TERM",
  );
  assertEquals(line({ pid: 0, state: "down" }), "down: x: 10s, normally up, want up");
  assertEquals(line({ pid: 0, state: "down", want: "down" }, false), "down: x: 10s");
  assertEquals(line({ state: "finish" }), "finish: x: (pid 9) 10s");
  assertEquals(
    formatStatus("x", { ...base, state: "run" }, { now: 50, normallyUp: true }).text,
    "run: x: (pid 9) 0s",
  );
});

async function supervise(sb: Sandbox, dir: string): Promise<void> {
  sb.start(`${await bin()}/runsv`, [dir]);
  await waitUntil(() => {
    try {
      return /^run/.test(Deno.readTextFileSync(`${dir}/supervise/stat`));
    } catch {
      return false;
    }
  }, { what: `${dir} to run` });
}

Deno.test("sv: SVDIR, several services, error count, LSB mode exit codes", async () => {
  await using sb = await Sandbox.create();
  const services = `${sb.dir}/services`;
  await sb.service("services/web", { run: "exec sleep 100" });
  await sb.service("services/db", { run: "exec sleep 100" });
  await supervise(sb, `${services}/web`);
  await supervise(sb, `${services}/db`);
  const sv = `${await bin()}/sv`;
  const env = { SVDIR: services };
  const both = await sb.run(sv, ["status", "web", "db", "none", "other"], { env });
  assertEquals(
    normalizeStatus(both.stdout),
    "run: web: (pid N) Ns\nrun: db: (pid N) Ns\n" +
      "fail: none: unable to change to service directory: file does not exist\n" +
      "fail: other: unable to change to service directory: file does not exist\n",
  );
  assertEquals(both.code, 2); // one per failed service
  // LSB: /etc/init.d/web -> sv
  await Deno.symlink(sv, `${sb.dir}/web`);
  const lsb = (...args: string[]) => sb.run(`${sb.dir}/web`, args, { env });
  assertEquals((await lsb("status")).code, 0);
  const stop = await lsb("stop");
  assertEquals([normalizeStatus(stop.stdout), stop.code], ["ok: down: web: Ns, normally up\n", 0]);
  assertEquals((await lsb("status")).code, 3);
  const start = await lsb("start");
  assertEquals([normalizeStatus(start.stdout), start.code], ["ok: run: web: (pid N) Ns\n", 0]);
  assertEquals((await lsb("stat")).code, 2); // LSB mode takes exact command names
  await Deno.symlink(sv, `${sb.dir}/gone`);
  const gone = await sb.run(`${sb.dir}/gone`, ["status"], { env });
  assertEquals(gone.code, 1);
  await Deno.mkdir(`${services}/plain`);
  await Deno.symlink(sv, `${sb.dir}/plain`);
  const unknown = await sb.run(`${sb.dir}/plain`, ["status"], { env });
  assertEquals(
    [unknown.stdout, unknown.code],
    ["warning: plain: unable to open supervise/ok: file does not exist\n", 4],
  );
});

Deno.test("sv: ./check decides when start is done; timeout and force-stop", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", {
    run: "trap '' TERM\nwhile :; do sleep 0.05; done",
    down: true,
  });
  await sb.script(`${dir}/check`, "test -e ready");
  sb.start(`${await bin()}/runsv`, [dir]);
  await waitUntil(() => Deno.statSync(`${dir}/supervise/stat`).isFile, { what: "runsv" });
  const sv = `${await bin()}/sv`;
  // check fails: start times out after -w seconds, exit code 1.
  const timeout = await sb.run(sv, ["-w", "1", "start", dir]);
  assertEquals(
    normalizeStatus(timeout.stdout),
    `timeout: run: ${dir}: (pid N) Ns, normally down\n`,
  );
  assertEquals(timeout.code, 1);
  // check passes once ready exists.
  await Deno.writeTextFile(`${dir}/ready`, "");
  const started = await sb.run(sv, ["-w", "3", "check", dir]);
  assertEquals([normalizeStatus(started.stdout), started.code], [
    `ok: run: ${dir}: (pid N) Ns, normally down\n`,
    0,
  ]);
  // The service ignores TERM: force-stop kills it after the timeout.
  const pid = Number(Deno.readTextFileSync(`${dir}/supervise/pid`));
  const forced = await sb.run(sv, ["-w", "1", "force-stop", dir]);
  assertMatch(
    forced.stdout,
    /^kill: run: .*: \(pid \d+\) \d+s, normally down, want down, got TERM\n$/,
  );
  assertEquals(forced.code, 1);
  await waitUntil(() => !alive(pid), { what: "KILL to end the service" });
  // Dead is not yet reaped: wait for runsv to record it.
  await waitUntil(() => readText(`${dir}/supervise/stat`).startsWith("down"), {
    what: "runsv to record the service down",
  });
});
