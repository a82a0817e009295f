import { assertEquals } from "./assert.ts";
import { errnoOf, errorText, SysError } from "../src/sys/errno.ts";

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
