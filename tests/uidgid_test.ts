import { assertEquals } from "./assert.ts";
import { resolveAccount } from "../src/chpst/uidgid.ts";

Deno.test("resolveAccount: numeric forms as runit's uidgids_set", () => {
  assertEquals(resolveAccount(":65534:65534"), { uid: 65534, gids: [65534] });
  assertEquals(resolveAccount(":65534:"), { uid: 65534, gids: [0] });
  assertEquals(resolveAccount(":1:2:3"), { uid: 1, gids: [2, 3] });
  assertEquals(resolveAccount(":5::7"), { uid: 5, gids: [0, 7] });
  assertEquals(resolveAccount(":65534"), { kind: "invalid", text: "65534" });
  assertEquals(resolveAccount(":x:1"), { kind: "invalid", text: "x:1" });
  assertEquals(resolveAccount(":"), { kind: "invalid", text: "" });
});

Deno.test("resolveAccount: names through the C library", () => {
  assertEquals(resolveAccount("root"), { uid: 0, gids: [0] });
  assertEquals(resolveAccount("root:root:root"), { uid: 0, gids: [0, 0] });
  assertEquals(resolveAccount("no-such-user-x"), { kind: "unknown", text: "no-such-user-x" });
  assertEquals(resolveAccount("root:no-such-group-x"), {
    kind: "unknown",
    text: "root:no-such-group-x",
  });
  assertEquals(resolveAccount("root:"), { kind: "unknown", text: "root:" });
});
