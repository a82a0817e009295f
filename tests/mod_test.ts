import { assertEquals, assertOk } from "./assert.ts";
import { control, isSupervised, NotSupervisedError, readStatus, ServiceError } from "../mod.ts";
import { bin, hasDebianRunit, Sandbox, waitUntil } from "./helpers.ts";

async function supervised(sb: Sandbox, runsv: string) {
  const dir = await sb.service("svc", { run: "exec sleep 100", log: "exec cat > /dev/null" });
  sb.start(runsv, [dir]);
  await waitUntil(() => {
    try {
      const info = readStatus(dir);
      return info.state === "run" && info.log?.state === "run";
    } catch {
      return false;
    }
  }, { what: "service and log to run" });
  return dir;
}

async function exercise(runsv: string) {
  await using sb = await Sandbox.create();
  const dir = await supervised(sb, runsv);
  const info = readStatus(dir);
  assertEquals(info.pid, Number(Deno.readTextFileSync(`${dir}/supervise/pid`)));
  assertEquals([info.want, info.paused, info.gotTerm, info.normallyUp], ["up", false, false, true]);
  assertOk(info.uptime >= 0 && info.since.getTime() <= Date.now());
  assertEquals(info.log?.dir, `${dir}/log`);
  assertOk(isSupervised(dir));

  const down = await control(dir, "down", { timeout: 7000 });
  assertEquals([down.state, down.pid, down.want], ["down", undefined, "down"]);
  const up = await control(dir, "up", { timeout: 7000 });
  assertEquals(up.state, "run");
  const paused = await control(dir, "pause", { timeout: 7000 });
  assertOk(paused.paused);
  await control(dir, "cont", { timeout: 7000 });
  const before = readStatus(dir).pid;
  const restarted = await control(dir, "restart", { timeout: 7000 });
  assertOk(restarted.pid !== undefined && restarted.pid !== before, "restart gave a new pid");
  const log = await control(dir, "down", { timeout: 7000, log: true });
  assertEquals(log.state, "down");
  await control(dir, "exit", { timeout: 7000 });
  assertOk(!isSupervised(dir));
  let error: unknown;
  try {
    readStatus(dir);
  } catch (caught) {
    error = caught;
  }
  assertOk(error instanceof NotSupervisedError);
}

Deno.test("mod: status and control against our runsv", async () => {
  await exercise(`${await bin()}/runsv`);
});

Deno.test({
  name: "mod: status and control against Debian's runsv",
  ignore: !hasDebianRunit(),
  async fn() {
    await exercise("/usr/bin/runsv");
  },
});

Deno.test("mod: a directory that is not a service", async () => {
  await using sb = await Sandbox.create();
  let error: unknown;
  try {
    readStatus(`${sb.dir}/none`);
  } catch (caught) {
    error = caught;
  }
  assertOk(error instanceof ServiceError);
  assertEquals(
    (error as Error).message,
    `${sb.dir}/none: unable to change to service directory: file does not exist`,
  );
  await Deno.mkdir(`${sb.dir}/plain`);
  try {
    readStatus(`${sb.dir}/plain`);
  } catch (caught) {
    error = caught;
  }
  assertEquals(
    (error as Error).message,
    `${sb.dir}/plain: unable to open supervise/ok: file does not exist`,
  );
});
