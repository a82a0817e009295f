/**
 * `log/down-signal`: the log service's warnings name the file as
 * `log/down-signal`, as those about `log/notification-fd` do.
 */

import { assertEquals, assertOk } from "./assert.ts";
import { bin, readText, Sandbox, waitRunning, waitUntil, within } from "./helpers.ts";

/** A log/run that notes `start`, then TERM when it gets it, in `./got` of `log/`. */
const TRAPPING_LOG = "echo start >> got\n" +
  'trap "echo TERM >> got; exit 0" TERM\n' +
  "while :; do sleep 0.05; done";

function got(dir: string): string[] {
  try {
    return readText(`${dir}/got`).split("\n").filter((line) => line !== "");
  } catch {
    return [];
  }
}

Deno.test("down-signal: bad log/down-signal is reported under that name, and TERM is sent", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("web", { run: "exec sleep 1000", log: TRAPPING_LOG });
  await Deno.writeTextFile(`${dir}/log/down-signal`, "QUITT\n");
  const runsv = sb.start(`${await bin()}/runsv`, [dir]);
  await waitRunning(dir);
  await waitUntil(() => got(`${dir}/log`).at(-1) === "start", { what: "the log's trap set" });
  const down = await sb.run(`${await bin()}/sv`, ["-w", "5", "down", `${dir}/log`]);
  assertEquals(down.stderr, "");
  assertEquals(got(`${dir}/log`), ["start", "TERM"]);
  await sb.run(`${await bin()}/sv`, ["exit", dir]);
  const { stderr } = await within(runsv.done, { what: "runsv to exit" });
  const lines = stderr.split("\n").filter((line) => line.includes("down-signal"));
  assertOk(lines.length > 0, "a warning about log/down-signal");
  for (const line of lines) {
    assertEquals(line, `runsv ${dir}: warning: invalid log/down-signal: "QUITT": sending TERM`);
  }
});
