/**
 * The log placeholder (src/sys/log_placeholder.ts): the embedded images are
 * what their sources assemble to, and the program does what a hosted
 * logger's process must: keep fd 0, pass HUP and ALRM to its host as one
 * byte each, die of TERM and KILL, and leave once the host is gone.
 */

import { assertEquals, assertOk } from "./assert.ts";
import {
  AT_FDCWD,
  closeFd,
  makePipe,
  O,
  openAt,
  reapOne,
  receiveWithFds,
  sendSignal,
  SIG,
  socketPair,
  spawn,
  waitReadable,
} from "../src/sys/mod.ts";
import { loadLogPlaceholder, logPlaceholderImage } from "../src/sys/log_placeholder.ts";
import { assembleHelper, HELPER_ARCHES, toolsFor } from "../scripts/session_helper.ts";
import { alive, onPath, readText, Sandbox, waitUntil } from "./helpers.ts";

for (const arch of HELPER_ARCHES) {
  Deno.test({
    name: `log placeholder: the embedded ${arch} image is what its source assembles to`,
    ignore: toolsFor(arch) === undefined,
    fn: async () => {
      assertEquals(
        await assembleHelper(arch, { program: "log_placeholder" }),
        logPlaceholderImage(arch),
      );
    },
  });
}

const qemu = onPath("qemu-aarch64");

/** Start the placeholder (`prefix` runs it, e.g. under qemu) on a pipe and a channel. */
function startPlaceholder(path: string, options: { qemu?: string; strace?: string }) {
  const [readEnd, writeEnd] = makePipe();
  const [ours, theirs] = socketPair();
  const dup: Array<[number, number]> = [[0, readEnd], [3, theirs]];
  let trace = -1;
  if (options.strace) {
    trace = openAt(AT_FDCWD, options.strace, {
      flags: O.WRONLY | O.CREAT | O.TRUNC | O.CLOEXEC,
    });
    dup.push([2, trace]);
  }
  const pid = options.qemu
    ? spawn([options.qemu, "-strace", path, "-tt", "./main"], { dup })
    : spawn(["svlogd", "-tt", "./main"], { path, dup });
  for (const fd of [theirs, readEnd, trace]) closeFd(fd);
  return { pid, channel: ours, writeEnd };
}

/** Wait until the placeholder waits for signals (before that, HUP would kill it). */
async function waiting(pid: number, strace?: string): Promise<void> {
  await waitUntil(
    () =>
      strace
        ? readText(strace).includes("rt_sigtimedwait")
        : readText(`/proc/${pid}/wchan`).includes("sigtimedwait"),
    { what: "HUP and ALRM blocked" },
  );
}

/** Wait for `pid` (our child) to exit; its wait status. */
async function exitOf(pid: number): Promise<number> {
  const exited = await waitUntil(() => reapOne(pid), { what: `pid ${pid} to exit` });
  return exited!.status;
}

/** KILL and reap `pid` if a failed assertion left it running. */
function stop(pid: number): void {
  if (!alive(pid)) return;
  sendSignal(pid, SIG.KILL);
  while (!reapOne(pid)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
}

async function behaves(path: string, qemu?: string): Promise<void> {
  await using sb = await Sandbox.create();
  const strace = qemu ? `${sb.dir}/strace` : undefined;
  const first = startPlaceholder(path, { qemu, strace });
  try {
    await waiting(first.pid, strace);
    if (!qemu) assertEquals(readText(`/proc/${first.pid}/comm`), "svlogd\n");
    // fd 0 is the pipe, kept open.
    assertOk(Deno.readLinkSync(`/proc/${first.pid}/fd/0`).startsWith("pipe:"));
    for (const signal of [SIG.HUP, SIG.ALRM, SIG.HUP]) {
      sendSignal(first.pid, signal);
      const byte = new Uint8Array(8);
      const got = waitReadable(first.channel, 10_000)
        ? receiveWithFds(first.channel, byte)
        : undefined;
      assertEquals(got?.length, 1, `signal ${signal} passed on`);
      assertEquals(byte[0], signal);
    }
    // TERM kills it (default action).
    sendSignal(first.pid, SIG.TERM);
    assertEquals((await exitOf(first.pid)) & 0x7f, SIG.TERM);
  } finally {
    stop(first.pid);
    closeFd(first.channel);
    closeFd(first.writeEnd);
  }
  // The host gone: the next signal ends it with 0.
  const second = startPlaceholder(path, { qemu, strace });
  try {
    await waiting(second.pid, strace);
    closeFd(second.channel);
    sendSignal(second.pid, SIG.ALRM);
    assertEquals(await exitOf(second.pid), 0);
  } finally {
    stop(second.pid);
    closeFd(second.writeEnd);
  }
}

Deno.test({
  name: "log placeholder: passes HUP and ALRM on, dies of TERM, leaves when the host is gone",
  ignore: Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64",
  fn: async () => {
    const loaded = loadLogPlaceholder();
    assertOk(loaded, "the placeholder loads into a memfd");
    try {
      await behaves(loaded.path);
    } finally {
      closeFd(loaded.fd);
    }
  },
});

Deno.test({
  name: "log placeholder: the aarch64 image under qemu-user",
  ignore: qemu === undefined || Deno.build.arch === "aarch64",
  fn: async () => {
    await using sb = await Sandbox.create();
    const path = `${sb.dir}/placeholder`;
    await Deno.writeFile(path, logPlaceholderImage("aarch64")!, { mode: 0o755 });
    await behaves(path, qemu);
  },
});
