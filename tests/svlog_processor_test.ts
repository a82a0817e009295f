/**
 * svlogd's processor on its own, on a real temp log directory with real
 * `sh -c` children: its output replaces the rotated file, state passes on,
 * failures rerun it, and a forgotten processor changes nothing.
 */

import { assertEquals } from "./assert.ts";
import { Sandbox, waitUntil, within } from "./helpers.ts";
import { Children } from "../src/reactor/mod.ts";
import { Processor } from "../src/svlog/processor.ts";
import { AT_FDCWD, closeFd, O, openAt } from "../src/sys/mod.ts";

const INPUT = "@400000006565a3a000000000.u";
const OUTPUT = "@400000006565a3a000000000.t";
const DONE = "@400000006565a3a000000000.s";

function mode(path: string): string {
  return (Deno.statSync(path).mode! & 0o777).toString(8);
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

/** A log directory with a rotated file, a processor for it, and cleanup. */
async function withLog(
  fn: (
    context: { dir: string; dirFd: number; processor: Processor; messages: string[] },
  ) => Promise<
    void
  >,
): Promise<void> {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/log`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(`${dir}/${INPUT}`, "hello\nworld\n");
  const dirFd = openAt(AT_FDCWD, dir, { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
  const children = new Children();
  const messages: string[] = [];
  const processor = new Processor({
    name: dir,
    reporter: { write: (text) => messages.push(text), verbose: true },
    children,
  });
  try {
    await fn({ dir, dirFd, processor, messages });
  } finally {
    await waitUntil(() => children.running === 0, { what: "processors to end" });
    children.close();
    closeFd(dirFd);
  }
}

Deno.test("processor: its output replaces the rotated file; state passes from 4 to 5", async () => {
  await withLog(async ({ dir, dirFd, processor, messages }) => {
    await Deno.writeTextFile(`${dir}/state`, "before\n");
    processor.start(INPUT, { dirFd, command: "tr a-z A-Z; cat <&4; echo next >&5" });
    assertEquals(processor.busy, true);
    await within(processor.idle(), { what: "the processor" });
    assertEquals(processor.busy, false);
    assertEquals(names(dir), [DONE, "state"]);
    assertEquals(Deno.readTextFileSync(`${dir}/${DONE}`), "HELLO\nWORLD\nbefore\n");
    assertEquals(mode(`${dir}/${DONE}`), "744");
    assertEquals(Deno.readTextFileSync(`${dir}/state`), "next\n");
    assertEquals(messages, [
      `svlogd: info: processing: ${dir}/${INPUT}\n`,
      `svlogd: info: processed: ${dir}/${DONE}\n`,
    ]);
  });
});

Deno.test("processor: a failure reruns it on the same file, from a fresh .t", async () => {
  await withLog(async ({ dir, dirFd, processor, messages }) => {
    // The first run writes half an output and fails; the second succeeds.
    const command = "if test -e tried; then tr a-z A-Z; else echo junk; touch tried; exit 3; fi";
    processor.start(INPUT, { dirFd, command });
    await within(processor.idle(), { what: "the processor" });
    assertEquals(Deno.readTextFileSync(`${dir}/${DONE}`), "HELLO\nWORLD\n");
    assertEquals(names(dir), [DONE, "state", "tried"]);
    assertEquals(messages, [
      `svlogd: info: processing: ${dir}/${INPUT}\n`,
      `svlogd: warning: processor failed, restart: ${dir}\n`,
      `svlogd: info: processing: ${dir}/${INPUT}\n`,
      `svlogd: info: processed: ${dir}/${DONE}\n`,
    ]);
  });
});

Deno.test("processor: killed by a signal counts as done, as in runit", async () => {
  await withLog(async ({ dir, dirFd, processor }) => {
    processor.start(INPUT, { dirFd, command: "echo partial; kill -KILL $$" });
    await within(processor.idle(), { what: "the processor" });
    assertEquals(names(dir), [DONE, "state"]);
    assertEquals(Deno.readTextFileSync(`${dir}/${DONE}`), "partial\n");
  });
});

Deno.test("processor: one at a time; a missing input is reported, nothing runs", async () => {
  await withLog(async ({ dir, dirFd, processor, messages }) => {
    await Deno.writeTextFile(`${dir}/gate`, "");
    // Holds until the test removes the gate file.
    processor.start(INPUT, { dirFd, command: "while test -e gate; do sleep 0.02; done; cat" });
    processor.start(INPUT, { dirFd, command: "cat" });
    assertEquals(messages.at(-1), `svlogd: warning: processor already running: ${dir}\n`);
    await Deno.remove(`${dir}/gate`);
    await within(processor.idle(), { what: "the processor" });
    assertEquals(Deno.readTextFileSync(`${dir}/${DONE}`), "hello\nworld\n");

    messages.length = 0;
    processor.start(INPUT, { dirFd, command: "cat" });
    assertEquals(processor.busy, false);
    assertEquals(messages, [
      `svlogd: info: processing: ${dir}/${INPUT}\n`,
      `svlogd: fatal: unable to open input for processor: ${dir}: file does not exist\n`,
    ]);
    await within(processor.idle(), { what: "idle without a processor", timeout: 100 });
  });
});

Deno.test("processor: once forgotten (directory reopened), its exit changes nothing", async () => {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/log`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(`${dir}/${INPUT}`, "hello\n");
  await Deno.writeTextFile(`${dir}/gate`, "");
  const dirFd = openAt(AT_FDCWD, dir, { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
  const children = new Children();
  const processor = new Processor({
    name: dir,
    reporter: { write: () => {}, verbose: false },
    children,
  });
  try {
    processor.start(INPUT, { dirFd, command: "while test -e gate; do sleep 0.02; done; cat" });
    const idle = processor.idle();
    processor.forget();
    assertEquals(processor.busy, false);
    await within(idle, { what: "idle after forget", timeout: 100 });
    await Deno.remove(`${dir}/gate`);
    await waitUntil(() => children.running === 0, { what: "the processor to be reaped" });
    // Not renamed, not removed: runit leaves them to the next rotation's cleanup.
    assertEquals(names(dir), [OUTPUT, INPUT, "newstate", "state"]);
    assertEquals(Deno.readTextFileSync(`${dir}/${OUTPUT}`), "hello\n");
  } finally {
    await waitUntil(() => children.running === 0, { what: "processors to end" });
    children.close();
    closeFd(dirFd);
  }
});
