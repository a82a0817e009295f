import { assertEquals, assertOk } from "./assert.ts";
import {
  AT_FDCWD,
  closeFd,
  exitCode,
  makePipe,
  O,
  openAt,
  spawn,
  SysError,
  waitFor,
} from "../src/sys/mod.ts";
import { readAll, Sandbox, within } from "./helpers.ts";

Deno.test("spawn: directory fd, dup2, default signals, empty mask", async () => {
  await using sb = await Sandbox.create();
  const dirFd = openAt(AT_FDCWD, sb.dir, { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
  const [readEnd, writeEnd] = makePipe({ nonblocking: true });
  const pid = spawn(["/bin/sh", "-c", "pwd; grep -E '^Sig(Ign|Blk)' /proc/self/status"], {
    cwdFd: dirFd,
    dup: [[1, writeEnd]],
  });
  closeFd(writeEnd);
  const output = await readAll(readEnd);
  closeFd(readEnd);
  closeFd(dirFd);
  assertEquals(exitCode(await within(waitFor(pid), { what: "sh to exit" })), 0);
  const [cwd, ignored, blocked] = output.trim().split("\n");
  assertEquals(cwd, sb.dir);
  // Deno ignores SIGPIPE; the child must not inherit that.
  assertEquals(ignored.split(/\s+/)[1], "0000000000000000");
  assertEquals(blocked.split(/\s+/)[1], "0000000000000000");
});

Deno.test("spawn: new session, and our descriptors are not leaked", async () => {
  // A descriptor of ours (close-on-exec, like every one this project opens).
  const marker = openAt(AT_FDCWD, "/dev/null", { flags: O.RDONLY | O.CLOEXEC });
  const [readEnd, writeEnd] = makePipe({ nonblocking: true });
  const pid = spawn(["/bin/sh", "-c", "ps -o sid= -p $$; ls /proc/$$/fd"], {
    dup: [[1, writeEnd]],
    newSession: true,
  });
  closeFd(writeEnd);
  const [sid, ...fds] = (await readAll(readEnd)).trim().split(/\s+/).map(Number);
  closeFd(readEnd);
  closeFd(marker);
  await within(waitFor(pid), { what: "sh to exit" });
  // A session of its own, led by the session helper: not ours, not the child's.
  const ours = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ")[3];
  assertOk(sid !== pid && sid !== Number(ours), `session ${sid} of ${pid}`);
  for (const fd of [marker, readEnd, writeEnd]) {
    if (fd !== 1) assertOk(!fds.includes(fd), `child inherited descriptor ${fd}: ${fds}`);
  }
});

Deno.test("spawn: a missing program is reported by the parent", () => {
  let error: unknown;
  try {
    spawn(["./no-such-program"], { cwd: "/" });
  } catch (caught) {
    error = caught;
  }
  assertOk(error instanceof SysError);
  assertEquals(error.message, "unable to start ./no-such-program: file does not exist");
});

Deno.test("spawn: exit status decoding", async () => {
  const exited = (pid: number) => within(waitFor(pid), { what: "sh to exit" });
  assertEquals(exitCode(await exited(spawn(["/bin/sh", "-c", "exit 3"]))), 3);
  const status = await exited(spawn(["/bin/sh", "-c", "kill -TERM $$"]));
  assertEquals(exitCode(status), -1);
  assertEquals(status & 0x7f, 15);
});
