import { assertEquals, assertOk, assertThrows } from "./assert.ts";
import {
  AT_FDCWD,
  closeFd,
  duplicateFd,
  makePipe,
  O,
  openAt,
  readFd,
  replaceFd,
  SysError,
  writeAll,
  writeFd,
  writeFdAt,
} from "../src/sys/mod.ts";
import { Sandbox } from "./helpers.ts";

const encoder = new TextEncoder();

Deno.test("descriptors: duplicate, replace, positional write", async () => {
  await using sb = await Sandbox.create();
  const [readEnd, writeEnd] = makePipe({ nonblocking: true });
  const copy = duplicateFd(writeEnd, { min: 100 });
  assertOk(copy >= 100);
  writeFd(copy, encoder.encode("via copy"));
  const buffer = new Uint8Array(64);
  assertEquals(new TextDecoder().decode(buffer.subarray(0, readFd(readEnd, buffer))), "via copy");
  // The copy's number now means the other pipe's write end.
  const [otherRead, otherWrite] = makePipe({ nonblocking: true });
  replaceFd(copy, otherWrite);
  writeFd(copy, encoder.encode("moved"));
  assertEquals(readFd(otherRead, buffer), 5);
  assertEquals(readFd(readEnd, buffer), -1);
  for (const fd of [readEnd, writeEnd, copy, otherRead, otherWrite]) closeFd(fd);
  assertThrows(() => duplicateFd(-1), SysError);

  const file = `${sb.dir}/file`;
  await Deno.writeTextFile(file, "0123456789");
  const fd = openAt(AT_FDCWD, file, { flags: O.WRONLY | O.CLOEXEC });
  assertEquals(writeFdAt(fd, encoder.encode("ab"), 4), 2);
  closeFd(fd);
  assertEquals(await Deno.readTextFile(file), "0123ab6789");
});

/** Read what is waiting in a non-blocking pipe. */
function drain(fd: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  for (let n = readFd(fd, buffer); n > 0; n = readFd(fd, buffer)) {
    chunks.push(buffer.slice(0, n));
  }
  const all = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

Deno.test("writeAll: a full pipe ends the loop with the count written", () => {
  const [readEnd, writeEnd] = makePipe({ nonblocking: true });
  try {
    // More than a pipe holds (64 KiB by default): the write comes back short.
    const bytes = new Uint8Array(1 << 20).map((_, i) => i % 251);
    const written = writeAll(writeEnd, bytes);
    assertOk(written > 0 && written < bytes.length, `wrote ${written}`);
    const got = drain(readEnd);
    assertEquals(got.length, written);
    assertEquals(got, bytes.subarray(0, written));
    // With room again, everything goes.
    assertEquals(writeAll(writeEnd, encoder.encode("rest")), 4);
    assertEquals(new TextDecoder().decode(drain(readEnd)), "rest");
    assertEquals(writeAll(writeEnd, new Uint8Array(0)), 0);
  } finally {
    closeFd(readEnd);
    closeFd(writeEnd);
  }
  // A closed descriptor (numbered far above what the runtime could reuse meanwhile).
  const closed = duplicateFd(1, { min: 900 });
  closeFd(closed);
  assertThrows(() => writeAll(closed, encoder.encode("x")), SysError);
});

Deno.test("writeAll: at a position, leaving the file offset alone", async () => {
  await using sb = await Sandbox.create();
  const file = `${sb.dir}/file`;
  await Deno.writeTextFile(file, "0123456789");
  const fd = openAt(AT_FDCWD, file, { flags: O.RDWR | O.CLOEXEC });
  try {
    const big = new Uint8Array(300_000).fill(0x61);
    assertEquals(writeAll(fd, big, { at: 4 }), big.length);
    assertEquals(writeAll(fd, encoder.encode("AB"), { at: 1 }), 2);
    // The offset is still 0: a plain write lands at the start.
    assertEquals(writeAll(fd, encoder.encode("z")), 1);
  } finally {
    closeFd(fd);
  }
  const text = await Deno.readTextFile(file);
  assertEquals(text.length, 4 + 300_000);
  assertEquals(text.slice(0, 6), "zAB3aa");
  assertEquals(text.slice(4), "a".repeat(300_000));
});

Deno.test("replaceFd: moving closes the source; the same number is left alone", () => {
  const [readEnd, pipeWrite] = makePipe({ nonblocking: true });
  // High numbers: a closed one cannot be reused by the runtime meanwhile.
  const source = duplicateFd(pipeWrite, { min: 900 });
  closeFd(pipeWrite);
  const target = duplicateFd(readEnd, { min: 800 });
  try {
    replaceFd(target, source, { move: true });
    // The source number is closed now, the target writes into the pipe.
    assertThrows(() => writeFd(source, encoder.encode("x")), SysError);
    assertEquals(writeFd(target, encoder.encode("moved")), 5);
    assertEquals(new TextDecoder().decode(drain(readEnd)), "moved");
    replaceFd(target, target, { move: true });
    assertEquals(writeFd(target, encoder.encode("still")), 5);
    assertThrows(() => replaceFd(target, -1), SysError);
  } finally {
    closeFd(readEnd);
    closeFd(target);
  }
});

Deno.test("closeFd: quiet by default, strict reports a descriptor that is not open", () => {
  // High numbers: a closed one cannot be reused by the runtime meanwhile.
  const fd = duplicateFd(1, { min: 900 });
  closeFd(fd, { strict: true });
  closeFd(fd);
  closeFd(-1);
  let error: unknown;
  try {
    closeFd(fd, { strict: true });
  } catch (caught) {
    error = caught;
  }
  assertOk(error instanceof SysError);
  assertEquals(error.errno, 9);
  assertEquals(error.message, `unable to close ${fd}: file descriptor not open`);
  assertThrows(() => closeFd(-1, { strict: true }), SysError);
});
