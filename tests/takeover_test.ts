/**
 * The directory take-over on its own, on real temp dirs and FIFOs: what it
 * creates and holds, the order of its steps (which message wins), and that a
 * failure leaves nothing open.
 */

import { assertEquals, assertOk } from "./assert.ts";
import { Sandbox } from "./helpers.ts";
import {
  makeSuperviseDir,
  openControl,
  openLock,
  openOk,
  releaseHolding,
  SupervisorFatal,
  takeOver,
  type UnitHold,
} from "../src/supervise/takeover.ts";
import { AT_FDCWD, closeFd, O, openAt, readFd, SysError, writeFd } from "../src/sys/mod.ts";

function openDir(path: string): number {
  return openAt(AT_FDCWD, path, { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error("expected a throw");
}

function openFds(): string[] {
  return [...Deno.readDirSync("/proc/self/fd")].map((entry) => entry.name).sort();
}

function kind(path: string): string {
  const stat = Deno.lstatSync(path);
  if (stat.isFifo) return "fifo";
  if (stat.isFile) return "file";
  if (stat.isDirectory) return "dir";
  return "other";
}

function mode(path: string): string {
  return (Deno.statSync(path).mode! & 0o777).toString(8);
}

/** Take over `dir`, recording warnings and first-status calls. */
function take(dir: string, dirFd: number) {
  const warnings: string[] = [];
  const statuses: Array<{ prefix: string; controlExists: boolean }> = [];
  const run = () =>
    takeOver(dirFd, {
      name: dir,
      warn: (text) => warnings.push(text),
      firstStatus: (unit: UnitHold) =>
        statuses.push({
          prefix: unit.prefix,
          controlExists: kind(`${dir}/${unit.prefix}supervise/control`) === "fifo",
        }),
    });
  return { run, warnings, statuses };
}

Deno.test("takeover: supervise files for the service and its log, in runsv's order", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 1", log: "exec cat", down: true });
  await Deno.writeTextFile(`${dir}/log/down`, "");
  const dirFd = openDir(dir);
  const { run, warnings, statuses } = take(dir, dirFd);
  const holding = run();
  try {
    assertEquals(warnings, []);
    assertEquals(statuses, [
      { prefix: "", controlExists: true },
      { prefix: "log/", controlExists: true },
    ]);
    assertEquals(holding.main.dirFd, dirFd);
    assertEquals(holding.main.down, true);
    assertOk(holding.log);
    assertEquals(holding.log.down, true);
    assertOk(holding.logPipe);
    for (const base of [`${dir}/supervise`, `${dir}/log/supervise`]) {
      assertEquals(kind(base), "dir");
      assertEquals(mode(base), "700");
      assertEquals(kind(`${base}/lock`), "file");
      assertEquals(mode(`${base}/lock`), "600");
      for (const fifo of ["control", "ok"]) {
        assertEquals(kind(`${base}/${fifo}`), "fifo");
        assertEquals(mode(`${base}/${fifo}`), "600");
      }
    }
    // control is open for reading and writing: what a client writes is read back.
    const client = openAt(dirFd, "log/supervise/control", { flags: O.WRONLY | O.NONBLOCK });
    writeFd(client, new TextEncoder().encode("d"));
    closeFd(client);
    const buffer = new Uint8Array(8);
    assertEquals(readFd(holding.log.controlFd, buffer), 1);
    assertEquals(buffer[0], "d".charCodeAt(0));
    // ok has a reader: a client's non-blocking open for writing succeeds (no ENXIO).
    closeFd(openAt(dirFd, "supervise/ok", { flags: O.WRONLY | O.NONBLOCK }));
    // The pipe joins the service's stdout (write end) to the logger's stdin.
    const [readEnd, writeEnd] = holding.logPipe;
    writeFd(writeEnd, new TextEncoder().encode("x"));
    assertEquals(readFd(readEnd, buffer), 1);
  } finally {
    releaseHolding(holding);
    closeFd(dirFd);
  }
});

Deno.test("takeover: a held lock is fatal with runit's text and leaves nothing open", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 1", log: "exec cat" });
  const dirFd = openDir(dir);
  const first = take(dir, dirFd).run();
  try {
    const before = openFds();
    const second = take(dir, dirFd);
    const error = thrown(second.run);
    assertOk(error instanceof SupervisorFatal);
    assertEquals(
      error.message,
      `runsv ${dir}: fatal: unable to lock supervise/lock: temporary failure`,
    );
    assertEquals(second.statuses, []);
    assertEquals(openFds(), before);
    // The step on its own reports the same failure as a SysError.
    const direct = thrown(() => openLock(dirFd, ""));
    assertOk(direct instanceof SysError);
    assertEquals(direct.message, "unable to lock supervise/lock: temporary failure");
  } finally {
    releaseHolding(first);
  }
  // Released: the lock can be taken again.
  closeFd(openLock(dirFd, ""));
  closeFd(dirFd);
});

Deno.test("takeover: only the log's lock held: its message, and the service's lock is let go", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 1", log: "exec cat" });
  await Deno.mkdir(`${dir}/log/supervise`);
  const dirFd = openDir(dir);
  const logLock = openLock(dirFd, "log/");
  try {
    const attempt = take(dir, dirFd);
    const error = thrown(attempt.run);
    assertEquals(
      error.message,
      `runsv ${dir}: fatal: unable to lock log/supervise/lock: temporary failure`,
    );
    // Locks come before FIFOs: nothing was written for either unit.
    assertEquals(attempt.statuses, []);
    closeFd(openLock(dirFd, ""));
  } finally {
    closeFd(logLock);
    closeFd(dirFd);
  }
});

Deno.test("takeover: a control that is not a FIFO is fatal; the service's status came first", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 1", log: "exec cat" });
  await Deno.mkdir(`${dir}/supervise`);
  await Deno.writeTextFile(`${dir}/supervise/control`, "");
  const dirFd = openDir(dir);
  try {
    const direct = thrown(() => openControl(dirFd, "", { name: "svc" }));
    assertOk(direct instanceof SupervisorFatal);
    assertEquals(direct.message, "runsv svc: fatal: supervise/control exists but is not a fifo");
    await Deno.remove(`${dir}/supervise/control`);
    await Deno.mkdir(`${dir}/log/supervise`);
    await Deno.writeTextFile(`${dir}/log/supervise/control`, "");
    const before = openFds();
    const attempt = take(dir, dirFd);
    const error = thrown(attempt.run);
    assertEquals(
      error.message,
      `runsv ${dir}: fatal: log/supervise/control exists but is not a fifo`,
    );
    assertEquals(attempt.statuses, [{ prefix: "", controlExists: true }]);
    assertEquals(openFds(), before);
  } finally {
    closeFd(dirFd);
  }
});

Deno.test("takeover: a dangling supervise symlink gets its target created", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 1", log: "exec cat" });
  await Deno.symlink(`${sb.dir}/elsewhere`, `${dir}/supervise`);
  // A relative target is relative to the unit's own directory (here log/).
  await Deno.symlink("../../log-supervise", `${dir}/log/supervise`);
  const dirFd = openDir(dir);
  const logFd = openDir(`${dir}/log`);
  try {
    makeSuperviseDir(dirFd, { name: dir, prefix: "" });
    assertEquals(kind(`${sb.dir}/elsewhere`), "dir");
    assertEquals(mode(`${sb.dir}/elsewhere`), "700");
    makeSuperviseDir(logFd, { name: dir, prefix: "log/" });
    assertEquals(kind(`${sb.dir}/log-supervise`), "dir");
    // An existing directory is kept as it is.
    makeSuperviseDir(dirFd, { name: dir, prefix: "" });
    const holding = take(dir, dirFd).run();
    releaseHolding(holding);
    assertEquals(kind(`${sb.dir}/elsewhere/control`), "fifo");
    assertEquals(kind(`${sb.dir}/log-supervise/ok`), "fifo");
  } finally {
    closeFd(logFd);
    closeFd(dirFd);
  }
});

Deno.test("takeover: log that is not a directory is warned about and not supervised", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 1" });
  await Deno.writeTextFile(`${dir}/log`, "");
  const dirFd = openDir(dir);
  try {
    const attempt = take(dir, dirFd);
    const holding = attempt.run();
    releaseHolding(holding);
    assertEquals(attempt.warnings, ["./log: not a directory."]);
    assertEquals(holding.log, undefined);
    assertEquals(holding.logPipe, undefined);
    assertEquals(holding.main.down, false);
    assertEquals(attempt.statuses, [{ prefix: "", controlExists: true }]);
  } finally {
    closeFd(dirFd);
  }
});

Deno.test("takeover: supervise that is a file: the lock reports it", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 1" });
  await Deno.writeTextFile(`${dir}/supervise`, "");
  const dirFd = openDir(dir);
  try {
    const error = thrown(take(dir, dirFd).run);
    assertOk(error instanceof SupervisorFatal);
    assertEquals(
      error.message,
      `runsv ${dir}: fatal: unable to open supervise/lock: not a directory`,
    );
  } finally {
    closeFd(dirFd);
  }
});

Deno.test("takeover: ok is a FIFO with a reader while held, none after", async () => {
  await using sb = await Sandbox.create();
  const dir = await sb.service("svc", { run: "exec sleep 1" });
  await Deno.mkdir(`${dir}/supervise`);
  const dirFd = openDir(dir);
  try {
    const okFd = openOk(dirFd, "");
    closeFd(openAt(dirFd, "supervise/ok", { flags: O.WRONLY | O.NONBLOCK }));
    closeFd(okFd);
    const error = thrown(() => openAt(dirFd, "supervise/ok", { flags: O.WRONLY | O.NONBLOCK }));
    assertEquals(error.message, "unable to open supervise/ok: device not configured");
  } finally {
    closeFd(dirFd);
  }
});
