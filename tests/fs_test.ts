import { assertEquals, assertThrows } from "./assert.ts";
import {
  AT_FDCWD,
  chmodAt,
  chmodFd,
  closeFd,
  makePipe,
  O,
  openAt,
  readFd,
  setNonBlocking,
  syncFd,
  SysError,
  unlinkAt,
} from "../src/sys/mod.ts";

Deno.test("fs: fsync, fchmod, chmod and unlink relative to a directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dirFd = openAt(AT_FDCWD, dir, { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
    const fd = openAt(dirFd, "f", { flags: O.WRONLY | O.CREAT | O.CLOEXEC, mode: 0o600 });
    syncFd(fd);
    chmodFd(fd, 0o744);
    assertEquals(Deno.statSync(`${dir}/f`).mode! & 0o777, 0o744);
    closeFd(fd);
    chmodAt(dirFd, "f", 0o640);
    assertEquals(Deno.statSync(`${dir}/f`).mode! & 0o777, 0o640);
    unlinkAt(dirFd, "f");
    assertThrows(() => Deno.statSync(`${dir}/f`));
    assertThrows(() => unlinkAt(dirFd, "f"), SysError);
    closeFd(dirFd);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fs: setNonBlocking makes an empty pipe read report EAGAIN", () => {
  const [r, w] = makePipe();
  try {
    setNonBlocking(r, true);
    assertEquals(readFd(r, new Uint8Array(8)), -1);
    setNonBlocking(r, false);
  } finally {
    closeFd(r);
    closeFd(w);
  }
});
