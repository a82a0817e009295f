import { assertEquals, assertOk } from "./assert.ts";
import { exitCode, reapOne, spawn, SysError, waitFor } from "../src/sys/mod.ts";
import { waitUntil } from "./helpers.ts";

/** What waitFor rejected with (it must reject). */
async function rejection(pid: number): Promise<SysError> {
  try {
    const status = await waitFor(pid);
    throw new Error(`waitFor(${pid}) invented a status: ${status}`);
  } catch (error) {
    assertOk(error instanceof SysError, String(error));
    return error;
  }
}

Deno.test("waitFor: the child's real status, exit code or signal", async () => {
  assertEquals(exitCode(await waitFor(spawn(["/bin/sh", "-c", "exit 7"]))), 7);
  assertEquals(await waitFor(spawn(["/bin/sh", "-c", "exit 0"])), 0);
  const killed = await waitFor(spawn(["/bin/sh", "-c", "kill -KILL $$"]));
  assertEquals(exitCode(killed), -1);
  assertEquals(killed & 0x7f, 9);
});

Deno.test("waitFor: a child someone else reaped is an error, not status 0", async () => {
  const pid = spawn(["/bin/sh", "-c", "exit 3"]);
  // Another reaper (as a waitpid(-1) loop would) takes the status first.
  const taken = await waitUntil(() => reapOne(pid), { what: `pid ${pid} to be reaped` });
  assertEquals(exitCode(taken!.status), 3);
  const error = await rejection(pid);
  assertEquals(error.errno, 10);
  assertEquals(error.message, `unable to wait for child ${pid}: no child processes`);
});

Deno.test("waitFor: a process that is not our child is an error", async () => {
  assertEquals((await rejection(Deno.ppid)).errno, 10);
});
