/**
 * Readiness notification (src/supervise/readiness.ts): s6's
 * `notification-fd` and systemd's `NOTIFY_SOCKET`, recorded in
 * `supervise/ready`, shown by `sv status` (only for services that declare
 * it), waited for by `sv -w` and `control`, invisible to Debian's sv.
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import {
  alive,
  bin,
  debianTest,
  exists,
  normalizeStatus,
  pidOf,
  processesUnder,
  readText,
  Sandbox,
  type Started,
  testUnless,
  waitRunning,
  waitUntil,
  within,
} from "./helpers.ts";
import { control, readStatus, ServiceError } from "../mod.ts";
import {
  decodeStatus,
  decodeTai64n,
  encodeStatus,
  encodeTai64n,
  type ServiceStatus,
} from "../src/supervise/status.ts";
import { readReadiness } from "../src/supervise/info.ts";
import { openServiceDir } from "../src/supervise/client.ts";
import { abstractDatagramSocket, closeFd, SysError } from "../src/sys/mod.ts";
import { formatStatus } from "../src/sv.ts";

/** A moment as milliseconds. */
function ms(stamp: { sec: number; nsec: number }): number {
  return stamp.sec * 1000 + stamp.nsec / 1e6;
}

/** When the current `./run` started (the status time), in ms. */
function startedAt(dir: string): number {
  return ms(decodeStatus(Deno.readFileSync(`${dir}/supervise/status`)));
}

/** The moment in `supervise/ready`, in ms; undefined when there is none. */
function readyAt(dir: string): number | undefined {
  try {
    return ms(decodeTai64n(Deno.readFileSync(`${dir}/supervise/ready`)));
  } catch {
    return undefined;
  }
}

/** A service that declares readiness by `notification-fd` 3, started down. */
async function fdService(sb: Sandbox, name: string, run: string): Promise<string> {
  const dir = await sb.service(`services/${name}`, { run, down: true });
  await Deno.writeTextFile(`${dir}/notification-fd`, "3\n");
  return dir;
}

/** Our runsv on `dir`, once its supervise/ files are there. */
async function supervise(sb: Sandbox, dir: string): Promise<Started> {
  const runsv = sb.start(`${await bin()}/runsv`, [dir]);
  // runsv writes the status before it makes supervise/ok, which sv opens first.
  await waitUntil(() => readText(`${dir}/supervise/stat`) !== "" && exists(`${dir}/supervise/ok`), {
    what: `${dir} supervised`,
  });
  return runsv;
}

async function sv(sb: Sandbox, args: string[], program?: string) {
  return await sb.run(program ?? `${await bin()}/sv`, args, {
    env: { SVDIR: `${sb.dir}/services` },
  });
}

Deno.test("TAI64N: supervise/ready's 12 bytes are the status's first 12", () => {
  const stamp = { sec: 1_700_000_000, nsec: 123_456_789 };
  const status = encodeStatus({
    ...stamp,
    pid: 1,
    paused: false,
    want: "up",
    gotTerm: false,
    state: "run",
  });
  assertEquals(encodeTai64n(stamp), status.subarray(0, 12));
  assertEquals(decodeTai64n(encodeTai64n(stamp)), stamp);
  let error: unknown;
  try {
    decodeTai64n(new Uint8Array(11));
  } catch (caught) {
    error = caught;
  }
  assertOk(error instanceof RangeError);
});

Deno.test("abstractDatagramSocket: one socket per name; the name is free again once closed", () => {
  const name = `runit/test-${Deno.pid}-${crypto.randomUUID()}`;
  const fd = abstractDatagramSocket(name);
  let error: unknown;
  try {
    closeFd(abstractDatagramSocket(name));
  } catch (caught) {
    error = caught;
  }
  assertOk(error instanceof SysError, String(error));
  assertEquals(error.message, `unable to bind @${name}: address already used`);
  closeFd(fd);
  closeFd(abstractDatagramSocket(name));
});

Deno.test("formatStatus: `, ready` or `, not ready` only when readiness is declared and ./run runs", () => {
  const status = {
    sec: 100,
    nsec: 0,
    pid: 7,
    paused: false,
    want: "up",
    gotTerm: false,
    state: "run",
  } as const;
  const text = (ready: boolean | undefined, state: "run" | "finish" = "run") =>
    formatStatus("web", { ...status, state }, { now: 105, normallyUp: false, ready }).text;
  assertEquals(text(undefined), "run: web: (pid 7) 5s, normally down");
  assertEquals(text(true), "run: web: (pid 7) 5s, ready, normally down");
  assertEquals(text(false), "run: web: (pid 7) 5s, not ready, normally down");
  assertEquals(text(false, "finish"), "finish: web: (pid 7) 5s, normally down");
});

Deno.test("readReadiness: a run nobody watches is told from a restart between two reads", async () => {
  await using sb = await Sandbox.create();
  const dir = await fdService(sb, "web", "exec sleep 100");
  await Deno.mkdir(`${dir}/supervise`, { recursive: true });
  const run = (pid: number, sec: number): ServiceStatus => ({
    sec,
    nsec: 0,
    pid,
    paused: false,
    want: "up",
    gotTerm: false,
    state: "run",
  });
  const dirFd = openServiceDir(dir);
  try {
    // The status still names pid 100, and supervise/notify does not: nobody watches it.
    await Deno.writeFile(`${dir}/supervise/status`, encodeStatus(run(100, 1_700_000_000)));
    assertEquals(readReadiness(dirFd, run(100, 1_700_000_000)).notify, null);
    await Deno.writeTextFile(`${dir}/supervise/notify`, "99\n");
    assertEquals(readReadiness(dirFd, run(100, 1_700_000_000)).notify, null);
    // pid 100 was read, then the service restarted as 101, watched: not ready, not unwatched.
    await Deno.writeTextFile(`${dir}/supervise/notify`, "101\n");
    await Deno.writeFile(`${dir}/supervise/status`, encodeStatus(run(101, 1_700_000_005)));
    assertEquals(readReadiness(dirFd, run(100, 1_700_000_000)), {
      notify: "fd",
      ready: null,
      statusText: null,
    });
    // And in the gap where the supervisor has removed supervise/notify for the next run.
    await Deno.remove(`${dir}/supervise/notify`);
    assertEquals(readReadiness(dirFd, run(100, 1_700_000_000)).notify, "fd");
  } finally {
    closeFd(dirFd);
  }
});

Deno.test("notification-fd: sv -w 5 start returns once the service wrote its newline", async () => {
  await using sb = await Sandbox.create();
  const dir = await fdService(sb, "web", "sleep 0.5; echo >&3; exec sleep 100");
  await supervise(sb, dir);
  const result = await sv(sb, ["-w", "5", "start", "web"]);
  const returned = Date.now();
  assertEquals(result.stderr, "");
  assertMatch(result.stdout, /^ok: run: web: \(pid \d+\) \d+s, ready, normally down\n$/);
  assertEquals(result.code, 0);
  const started = startedAt(dir);
  const ready = readyAt(dir);
  assertOk(ready !== undefined, "supervise/ready exists");
  // The service sleeps 0.5 s before it is ready; sv returned after that.
  assertOk(ready - started >= 450, `ready ${ready - started} ms after the start`);
  assertOk(returned >= ready, "sv returned after readiness");
  assertEquals(Deno.readFileSync(`${dir}/supervise/ready`).length, 12);
  // runit's files are what runit writes; the status line says ready.
  assertEquals(readText(`${dir}/supervise/stat`), "run\n");
  assertEquals(readText(`${dir}/supervise/pid`), `${pidOf(dir)}\n`);
  const status = await sv(sb, ["status", "web"]);
  assertMatch(status.stdout, /^run: web: \(pid \d+\) \d+s, ready, normally down\n$/);

  // Down: readiness is cleared; the JSON and mod.ts agree.
  assertEquals((await sv(sb, ["-w", "5", "down", "web"])).code, 0);
  assertOk(!exists(`${dir}/supervise/ready`), "ready removed when the service went down");
  const down = await sv(sb, ["status", "--json", "web"]);
  const object = JSON.parse(down.stdout);
  assertEquals([object.state, object.notify, object.ready], ["down", "fd", null]);
  assertEquals(readStatus(dir).ready, null);
});

Deno.test("notification-fd: never ready is runit's timeout; a closed fd too", async () => {
  await using sb = await Sandbox.create();
  const silent = await fdService(sb, "silent", "exec sleep 100");
  const closed = await fdService(sb, "closed", "exec 3>&-; exec sleep 100");
  await supervise(sb, silent);
  await supervise(sb, closed);
  const result = await sv(sb, ["-w", "1", "start", "silent", "closed"]);
  assertEquals(
    normalizeStatus(result.stdout),
    "timeout: run: silent: (pid N) Ns, not ready, normally down\n" +
      "timeout: run: closed: (pid N) Ns, not ready, normally down\n",
  );
  assertEquals(result.code, 2);
  assertOk(!exists(`${silent}/supervise/ready`) && !exists(`${closed}/supervise/ready`));
  assertEquals(JSON.parse((await sv(sb, ["status", "--json", "silent"])).stdout).ready, null);
  // The library's control says the same with a TimeoutError.
  const error = await control(silent, "restart", { timeout: 500 }).catch((e) => e);
  assertEquals(error.name, "TimeoutError");
  assertEquals(error.status.ready, null);
  assertEquals(error.status.notify, "fd");
});

Deno.test("notification-fd: a service that dies before it is ready is reported", async () => {
  await using sb = await Sandbox.create();
  const dir = await fdService(sb, "flaky", "sleep 0.3; exit 1");
  await supervise(sb, dir);
  const result = await sv(sb, ["-w", "5", "start", "flaky"]);
  assertEquals([result.stdout, result.code], ["fail: flaky: down before ready\n", 1]);
  // The library rejects with the same words.
  await sv(sb, ["down", "flaky"]);
  await waitUntil(() => readText(`${dir}/supervise/stat`) === "down\n", { what: "flaky down" });
  const error = await control(dir, "up", { timeout: 5000 }).catch((e) => e);
  assertOk(error instanceof ServiceError, String(error));
  assertEquals(error.message, `${dir}: down before ready`);
  await sv(sb, ["down", "flaky"]);
});

testUnless(
  "NOTIFY_SOCKET: systemd-notify --ready --status; sv waits, JSON matches mod.ts",
  exists("/usr/bin/systemd-notify") ? undefined : "systemd-notify is not installed",
  async () => {
    await using sb = await Sandbox.create();
    const dir = await sb.service("services/api", {
      run: 'sleep 0.3; systemd-notify --ready --status="serving 3 clients"; exec sleep 100',
      down: true,
    });
    await Deno.writeTextFile(`${dir}/notify-socket`, "");
    await supervise(sb, dir);
    const result = await sv(sb, ["-w", "5", "start", "api"]);
    assertMatch(result.stdout, /^ok: run: api: \(pid \d+\) \d+s, ready, normally down\n$/);
    assertEquals(result.code, 0);
    const ready = readyAt(dir);
    assertOk(ready !== undefined && ready - startedAt(dir) >= 250, "ready after the sleep");
    const environ = readText(`/proc/${pidOf(dir)}/environ`).split("\0");
    assertMatch(
      environ.find((entry) => entry.startsWith("NOTIFY_SOCKET="))!,
      /^NOTIFY_SOCKET=@runit\//,
    );
    const object = JSON.parse((await sv(sb, ["status", "--json", "api"])).stdout);
    const info = readStatus(dir);
    assertEquals(object.notify, "socket");
    assertEquals(object.statusText, "serving 3 clients");
    assertEquals([info.notify, info.statusText], ["socket", "serving 3 clients"]);
    assertEquals(object.ready, info.ready?.toISOString());
    assertEquals(new Date(object.ready).getTime(), Math.floor(ready));
    // A restart through the library waits for the new ./run's READY=1.
    const old = pidOf(dir);
    const restarted = await control(dir, "restart", { timeout: 5000 });
    assertOk(restarted.pid !== old && restarted.ready !== null, "restarted and ready");
    assertOk(restarted.ready!.getTime() - restarted.since.getTime() >= 250);
  },
);

debianTest(
  "Debian's sv drives a service that declares readiness under our runsv, unchanged",
  async () => {
    await using sb = await Sandbox.create();
    const dir = await fdService(sb, "web", "sleep 0.2; echo >&3; exec sleep 100");
    await supervise(sb, dir);
    const up = await sv(sb, ["-w", "5", "up", "web"], "/usr/bin/sv");
    assertMatch(up.stdout, /^ok: run: web: \(pid \d+\) \d+s, normally down\n$/);
    assertEquals(up.code, 0);
    await waitUntil(() => readyAt(dir), { what: "readiness" });
    const theirs = await sv(sb, ["status", "web"], "/usr/bin/sv");
    const ours = await sv(sb, ["status", "web"]);
    assertEquals(
      normalizeStatus(ours.stdout),
      normalizeStatus(theirs.stdout).replace("Ns,", "Ns, ready,"),
    );
    assertEquals(theirs.code, ours.code);
    const pid = pidOf(dir);
    assertEquals((await sv(sb, ["-w", "5", "restart", "web"], "/usr/bin/sv")).code, 0);
    // runit's sv may call a restart done within the second it was sent: wait for it here.
    await waitRunning(dir, { not: pid });
    await waitUntil(() => !alive(pid), { what: "the old ./run to end" });
    const down = await sv(sb, ["-w", "5", "down", "web"], "/usr/bin/sv");
    assertMatch(down.stdout, /^ok: down: web: \d+s\n$/);
    assertOk(!exists(`${dir}/supervise/ready`));
  },
);

debianTest(
  "under Debian's runsv, which records no readiness, our sv does not wait for it",
  async () => {
    await using sb = await Sandbox.create();
    const dir = await fdService(sb, "web", "exec sleep 100");
    const runsv = sb.start("/usr/bin/runsv", [dir]);
    await waitUntil(() => readText(`${dir}/supervise/stat`) !== "", { what: "supervised" });
    const started = Date.now();
    const up = await sv(sb, ["-w", "5", "start", "web"]);
    assertMatch(up.stdout, /^ok: run: web: \(pid \d+\) \d+s, normally down\n$/);
    assertEquals(up.code, 0);
    assertOk(Date.now() - started < 4000, "sv did not wait for the timeout");
    const ours = await sv(sb, ["status", "web"]);
    const theirs = await sv(sb, ["status", "web"], "/usr/bin/sv");
    assertEquals(normalizeStatus(ours.stdout), normalizeStatus(theirs.stdout));
    assertEquals(JSON.parse((await sv(sb, ["status", "--json", "web"])).stdout).notify, null);
    // A notify file our runsv left for an earlier pid changes nothing.
    await Deno.writeTextFile(`${dir}/supervise/notify`, "1\n");
    assertEquals(readStatus(dir).notify, null);
    await sv(sb, ["-w", "5", "down", "web"], "/usr/bin/sv");
    Deno.kill(runsv.pid, "SIGTERM");
  },
);

Deno.test("an unusable notification-fd is reported, and nothing waits for it", async () => {
  await using sb = await Sandbox.create();
  const dir = await fdService(sb, "web", "exec sleep 100");
  await Deno.writeTextFile(`${dir}/notification-fd`, "2\n");
  const runsv = await supervise(sb, dir);
  const up = await sv(sb, ["-w", "5", "start", "web"]);
  assertMatch(up.stdout, /^ok: run: web: \(pid \d+\) \d+s, normally down\n$/);
  assertEquals(readStatus(dir).notify, null);
  await sv(sb, ["-w", "5", "down", "web"]);
  Deno.kill(runsv.pid, "SIGTERM");
  const { stderr } = await within(runsv.done, { what: "runsv to exit" });
  assertEquals(stderr, `runsv ${dir}: warning: invalid notification-fd: "2"\n`);
});

Deno.test("adoption keeps supervise/ready: the adopted service was ready", async () => {
  await using sb = await Sandbox.create();
  const dir = await fdService(sb, "web", "echo >&3; exec sleep 100");
  await Deno.remove(`${dir}/down`);
  const first = await supervise(sb, dir);
  const pid = await waitRunning(dir);
  await waitUntil(() => readyAt(dir), { what: "readiness" });
  const ready = Deno.readFileSync(`${dir}/supervise/ready`);
  Deno.kill(first.pid, "SIGKILL");
  await waitUntil(() => !alive(first.pid), { what: "runsv to die" });
  sb.start(`${await bin()}/runsv`, [dir]);
  await waitUntil(async () => (await sv(sb, ["status", "web"])).code === 0, { what: "adopted" });
  assertEquals(processesUnder(dir), [pid]);
  assertEquals(Deno.readFileSync(`${dir}/supervise/ready`), ready);
  assertMatch((await sv(sb, ["status", "web"])).stdout, /^run: web: \(pid \d+\) \d+s, ready\n$/);
});

testUnless(
  "NOTIFY_SOCKET: a datagram from another user is ignored",
  exists("/usr/bin/systemd-notify") && exists("/usr/bin/setpriv")
    ? (Deno.uid() === 0 ? undefined : "needs root to send as nobody")
    : "systemd-notify or setpriv is not installed",
  async () => {
    await using sb = await Sandbox.create();
    const dir = await sb.service("services/api", { run: "exec sleep 100" });
    await Deno.writeTextFile(`${dir}/notify-socket`, "");
    await supervise(sb, dir);
    const pid = await waitRunning(dir);
    const socket = readText(`/proc/${pid}/environ`).split("\0")
      .find((entry) => entry.startsWith("NOTIFY_SOCKET="))!;
    const notify = (...prefix: string[]) =>
      sb.run("/usr/bin/env", [
        ...prefix,
        "env",
        socket,
        "systemd-notify",
        "--ready",
        "--status=hi",
      ]);
    // systemd-notify returns once the supervisor has read its barrier, after the READY=1.
    const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
    assertEquals((await notify(...nobody)).code, 0);
    assertEquals([readyAt(dir), readStatus(dir).statusText], [undefined, null]);
    assertMatch(
      (await sv(sb, ["status", "api"])).stdout,
      /^run: api: \(pid \d+\) \d+s, not ready\n$/,
    );
    assertEquals((await notify()).code, 0);
    assertOk(readyAt(dir) !== undefined, "ready once root sent READY=1");
    assertEquals(readStatus(dir).statusText, "hi");
  },
);
