import { assertEquals, assertOk } from "./assert.ts";
import { AT_FDCWD, closeFd, LOCK, O, openAt, tryLock } from "../src/sys/mod.ts";
import { alive, pidOf, Sandbox, waitUntil, withTree } from "./helpers.ts";

Deno.test("tree: one supervisor per directory; removal takes it down; stop is clean", async () => {
  await using sb = await Sandbox.create();
  const a = await sb.service("service/a", { run: "exec sleep 100", log: "exec cat >/dev/null" });
  await Deno.symlink("a", `${sb.dir}/service/a2`);
  const b = await sb.service("service/b", { run: "exec sleep 100" });
  await withTree(`${sb.dir}/service`, async (tree, lines) => {
    await waitUntil(() => pidOf(a) && pidOf(`${a}/log`) && pidOf(b), { what: "services up" });
    assertEquals(tree.supervisors.length, 2);
    const bPid = pidOf(b);
    await Deno.rename(b, `${sb.dir}/b-away`);
    await waitUntil(() => !alive(bPid), { what: "b down after removal" });
    await waitUntil(() => tree.supervisors.length === 1, { what: "b's supervisor gone" });
    assertEquals(tree.services.length, 1);
    const pids = [pidOf(a), pidOf(`${a}/log`)];
    assertEquals(await tree.stop({ timeoutMs: 2000 }), true);
    assertOk(pids.every((pid) => !alive(pid)), "a and its log are down");
    assertEquals(lines, []);
  });
});

Deno.test("tree: a supervisor that cannot start is retried and reported once", async () => {
  await using sb = await Sandbox.create();
  const a = await sb.service("service/a", { run: "exec sleep 100" });
  await Deno.mkdir(`${a}/supervise`);
  const lock = openAt(AT_FDCWD, `${a}/supervise/lock`, {
    flags: O.WRONLY | O.CREAT | O.CLOEXEC,
    mode: 0o600,
  });
  assertOk(tryLock(lock, LOCK.EX | LOCK.NB));
  // Each attempt opens and closes supervise/lock: count them.
  const watcher = Deno.watchFs(`${a}/supervise`, { recursive: false });
  let attempts = 0;
  const watching = (async () => {
    for await (const event of watcher) {
      if (event.kind === "access" && event.paths.some((p) => p.endsWith("/lock"))) attempts++;
    }
  })();
  await withTree(`${sb.dir}/service`, async (_tree, lines) => {
    await waitUntil(() => lines.length > 0, { what: "the fatal message" });
    // Several retries (every 100 ms) go by, with one message.
    await waitUntil(() => attempts >= 4, { what: "three retries" });
    watcher.close();
    await watching;
    assertEquals(lines, ["runsv a: fatal: unable to lock supervise/lock: temporary failure"]);
    closeFd(lock);
    await waitUntil(() => pidOf(a) > 0, { what: "a to start once the lock is free" });
  });
});

Deno.test("tree: stop KILLs what ignores TERM after the timeout", async () => {
  await using sb = await Sandbox.create();
  const a = await sb.service("service/a", { run: "trap '' TERM\nexec sleep 100" });
  await withTree(`${sb.dir}/service`, async (tree) => {
    const pid = await waitUntil(() => pidOf(a), { what: "a up" });
    const started = performance.now();
    assertEquals(await tree.stop({ timeoutMs: 300 }), false);
    const took = performance.now() - started;
    // KILL only after the timeout (how soon after: bench/timing.ts).
    assertOk(took >= 290, `KILL after ${took} ms, before the 300 ms timeout`);
    assertOk(!alive(pid), "KILLed");
  });
});

Deno.test("tree: the periodic rescan notices a symlink's target replaced", async () => {
  await using sb = await Sandbox.create();
  const first = await sb.service("one", { run: "exec sleep 100" });
  await Deno.mkdir(`${sb.dir}/service`);
  await Deno.symlink(`${sb.dir}/current`, `${sb.dir}/service/link`);
  await Deno.symlink(first, `${sb.dir}/current`);
  await withTree(`${sb.dir}/service`, async () => {
    const pid = await waitUntil(() => pidOf(first), { what: "one up" });
    // Nothing changes in the watched directory itself: only the rescan can see this.
    const second = await sb.service("two", { run: "exec sleep 100" });
    await Deno.symlink(second, `${sb.dir}/current.new`);
    await Deno.rename(`${sb.dir}/current.new`, `${sb.dir}/current`);
    await waitUntil(() => pidOf(second) > 0 && !alive(pid), { what: "two up, one down" });
  }, { rescanMs: 100 });
});

Deno.test("tree: inotify, read by the reactor, notices entries moved in and out at once", async () => {
  await using sb = await Sandbox.create();
  await Deno.mkdir(`${sb.dir}/service`);
  const web = await sb.service("staged/web", { run: "exec sleep 100" });
  // No periodic rescan within the test: only the watch can see these changes.
  await withTree(`${sb.dir}/service`, async (tree, lines) => {
    await Deno.rename(web, `${sb.dir}/service/web`);
    const pid = await waitUntil(() => pidOf(`${sb.dir}/service/web`), {
      what: "web started",
      timeout: 3000,
    });
    await Deno.rename(`${sb.dir}/service/web`, `${sb.dir}/web-away`);
    await waitUntil(() => !alive(pid) && tree.supervisors.length === 0, {
      what: "web taken down",
      timeout: 3000,
    });
    assertEquals(lines, []);
  }, { rescanMs: 600_000 });
});
