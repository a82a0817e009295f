import { constants as osConstants } from "node:os";
import { assertEquals, assertOk } from "./assert.ts";
import { Errno, errnoOf, errorText, SysError, UNKNOWN_ERRNO } from "../src/sys/errno.ts";
import { Sandbox, waitUntil } from "./helpers.ts";

Deno.test("errno: runit's texts, not strerror's", () => {
  assertEquals(errorText(2), "file does not exist");
  assertEquals(errorText(11), "temporary failure");
  assertEquals(errorText(13), "access denied");
  assertEquals(errorText(6), "device not configured");
  assertEquals(errorText(9999), "unknown error");
});

Deno.test("errno: SysError message and Deno error codes", () => {
  assertEquals(
    new SysError("lock supervise/lock", 11).message,
    "unable to lock supervise/lock: temporary failure",
  );
  let caught: unknown;
  try {
    Deno.readDirSync("/nonexistent-dir-for-test").next();
  } catch (error) {
    caught = error;
  }
  assertEquals(errnoOf(caught), 2);
});

/** stat, or undefined when there is nothing there. */
function statOf(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}

const HEADERS = ["/usr/include/asm-generic/errno-base.h", "/usr/include/asm-generic/errno.h"];
const haveHeaders = HEADERS.every((path) => statOf(path)?.isFile);

Deno.test({
  name: "errno: the table is the kernel's (asm-generic, used by x86_64 and aarch64)",
  // Needs the kernel's headers (Debian: linux-libc-dev).
  ignore: !haveHeaders,
  fn() {
    const defined = new Map<string, number>();
    for (const path of HEADERS) {
      for (
        const [, name, value] of Deno.readTextFileSync(path).matchAll(/#define\s+(E\w+)\s+(\w+)/g)
      ) {
        defined.set(name, /^\d+$/.test(value) ? Number(value) : defined.get(value)!);
      }
    }
    assertOk(defined.size > 130, `only ${defined.size} names in the headers`);
    const ours = new Map<string, number>(Object.entries(Errno));
    for (const [name, value] of defined) assertEquals([name, ours.get(name)], [name, value]);
    // Ours has nothing more than the kernel's names but glibc's ENOTSUP (= EOPNOTSUPP).
    const extra = [...ours.keys()].filter((name) => !defined.has(name));
    assertEquals(extra, ["ENOTSUP"]);
    assertEquals(Errno.ENOTSUP, Errno.EOPNOTSUPP);
  },
});

Deno.test("errno: node:os agrees on every name it knows", () => {
  const node = osConstants.errno as Record<string, number>;
  assertOk(Object.keys(node).length > 50);
  for (const [name, value] of Object.entries(node)) {
    assertEquals([name, (Errno as Record<string, number>)[name]], [name, value]);
  }
});

Deno.test("errno: djb's texts by number; an unlisted value is 'unknown error'", () => {
  assertEquals(errorText(0), "no error");
  // EWOULDBLOCK is EAGAIN on Linux: error_str's first match wins.
  assertEquals(errorText(Errno.EWOULDBLOCK), "temporary failure");
  assertEquals(errorText(Errno.EDEADLOCK), "operation would cause deadlock");
  assertEquals(errorText(Errno.EXDEV), "cross-device link");
  assertEquals(errorText(Errno.ETXTBSY), "text busy");
  assertEquals(errorText(Errno.EREMOTE), "too many levels of remote in path");
  assertEquals(errorText(Errno.EREMCHG), "remote address changed");
  // Linux names djb has no text for.
  for (const code of [Errno.ECANCELED, Errno.EOVERFLOW, Errno.EHWPOISON, Errno.EILSEQ, -1, 4096]) {
    assertEquals(errorText(code), "unknown error");
  }
  // No other value borrows EIO's text.
  for (const [name, code] of Object.entries(Errno)) {
    if (code !== Errno.EIO) assertOk(errorText(code) !== "input/output error", name);
  }
});

Deno.test("errnoOf: any Linux code, Deno's 'os error N', else unknown", () => {
  assertEquals(errnoOf(Object.assign(new Error("x"), { code: "EHOSTDOWN" })), 112);
  assertEquals(errnoOf(Object.assign(new Error("x"), { code: "EXDEV" })), 18);
  assertEquals(errnoOf(new Error("Text file busy (os error 26): open './x'")), 26);
  assertEquals(errnoOf(new Error("not a system error")), UNKNOWN_ERRNO);
  assertEquals(errnoOf(Object.assign(new Error("x"), { code: "toString" })), UNKNOWN_ERRNO);
  assertEquals(errnoOf("a string"), UNKNOWN_ERRNO);
  assertEquals(errnoOf(undefined), UNKNOWN_ERRNO);
  assertEquals(errorText(errnoOf(new Error("no errno"))), "unknown error");
  assertEquals(errnoOf(new SysError("open x", 13)), 13);
});

Deno.test({
  name: "errnoOf: a real cross-device link is EXDEV, not EIO",
  // Needs two file systems: /dev/shm and the temp directory.
  ignore: statOf("/dev/shm") === undefined ||
    statOf("/dev/shm")?.dev === statOf(Deno.env.get("TMPDIR") ?? "/tmp")?.dev,
  async fn() {
    await using sb = await Sandbox.create();
    const source = `/dev/shm/runit-errno-${crypto.randomUUID()}`;
    Deno.writeTextFileSync(source, "x");
    let caught: unknown;
    try {
      Deno.linkSync(source, `${sb.dir}/link`);
    } catch (error) {
      caught = error;
    } finally {
      Deno.removeSync(source);
    }
    assertEquals(errnoOf(caught), Errno.EXDEV);
    assertEquals(errorText(errnoOf(caught)), "cross-device link");
  },
});

Deno.test("errnoOf: a busy executable (Deno gives no code) is ETXTBSY, not EIO", async () => {
  await using sb = await Sandbox.create();
  const program = `${sb.dir}/sleeper`;
  Deno.copyFileSync("/bin/sleep", program);
  Deno.chmodSync(program, 0o755);
  const { pid } = sb.start(program, ["30"]);
  await waitUntil(() => Deno.readLinkSync(`/proc/${pid}/exe`) === program, {
    what: "the copy to be executing",
  });
  let caught: unknown;
  try {
    Deno.openSync(program, { write: true }).close();
  } catch (error) {
    caught = error;
  }
  assertEquals(errnoOf(caught), Errno.ETXTBSY);
  assertEquals(errorText(errnoOf(caught)), "text busy");
});
