/**
 * `sv logs` and hosted loggers: the supervisor records the directories a
 * hosted svlogd really writes in `log/supervise/logdirs`, and `sv logs`
 * prefers them to its rule (log/main, or the words after svlogd in log/run).
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import { logDirs } from "../src/sv_logs.ts";
import {
  bin,
  exists,
  hasDebianRunit,
  normalizeStatus,
  pidOf,
  readText,
  Sandbox,
  waitRunning,
  waitUntil,
} from "./helpers.ts";
import { isPlaceholder } from "./proc.ts";

Deno.test("sv logs: a hosted logger's directory that only running log/run reveals", async () => {
  await using sb = await Sandbox.create();
  const ours = await bin();
  // The directory is computed in shell, as Debian's runit-services scripts do.
  const logRun = (exec: string) =>
    `D="$(cd ../.. && pwd)/store-$(basename "$(cd .. && pwd)")"\n` +
    `mkdir -p "$D"\n${exec}${ours}/svlogd -tt "$D"`;
  const dir = await sb.service("web", {
    run: "echo hello from web\nexec sleep 100",
    log: logRun("exec "),
  });
  const store = `${sb.dir}/store-web`;
  sb.start(`${ours}/runsv`, [dir]);
  const logger = await waitUntil(() => {
    const pid = pidOf(`${dir}/log`);
    return isPlaceholder(pid) ? pid : 0;
  }, { what: "the log to be hosted" });
  await waitRunning(dir);
  assertEquals(readText(`${dir}/log/supervise/logdirs`), `${store}\n`);
  assertEquals(logDirs(dir), [store]);

  const sv = (...args: string[]) => sb.run(`${ours}/sv`, args, { env: { TZ: "UTC" } });
  await waitUntil(() => readText(`${store}/current`).includes("hello from web"), {
    what: "the line logged",
  });
  const logs = await sv("logs", dir);
  assertEquals([logs.code, logs.stderr], [0, ""]);
  assertMatch(logs.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{5} hello from web\n$/);

  // Debian's sv is not disturbed by the extra file.
  if (hasDebianRunit()) {
    const theirs = await sb.run("/usr/bin/sv", ["status", dir]);
    const mine = await sv("status", dir);
    assertEquals(normalizeStatus(theirs.stdout), normalizeStatus(mine.stdout));
  }

  // The rule alone does not find it.
  await Deno.remove(`${dir}/log/supervise/logdirs`);
  assertEquals(logDirs(dir), []);
  assertEquals((await sv("logs", dir)).stdout, `fail: ${dir}: no log directory found\n`);

  // A logger that is not exec'd logs on its own: a new log/run forgets the record.
  // A new hosted logger records its directories again.
  await sv("restart", `${dir}/log`);
  const second = await waitUntil(() => {
    const pid = pidOf(`${dir}/log`);
    return pid !== logger && isPlaceholder(pid) ? pid : 0;
  }, { what: "the log to be hosted again" });
  await waitUntil(() => readText(`${dir}/log/supervise/logdirs`) === `${store}\n`, {
    what: "the record again",
  });
  await Deno.writeTextFile(`${dir}/log/run`, `#!/bin/sh\n${logRun("")}\n`);
  await sv("restart", `${dir}/log`);
  await waitRunning(`${dir}/log`, { not: second });
  await waitUntil(() => !exists(`${dir}/log/supervise/logdirs`), { what: "the record removed" });
  assertOk(!isPlaceholder(pidOf(`${dir}/log`)));
});
