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
