import { assertEquals } from "./assert.ts";
import { groupByName, userByName } from "../src/sys/mod.ts";

Deno.test("userByName, groupByName: getpwnam/getgrnam", () => {
  assertEquals(userByName("root"), { name: "root", uid: 0, gid: 0 });
  assertEquals(userByName("no-such-user-x"), { errno: 0 });
  assertEquals(groupByName("root"), 0);
  assertEquals(groupByName("no-such-group-x"), { errno: 0 });
  const passwd = Deno.readTextFileSync("/etc/passwd").split("\n").find((line) =>
    line.startsWith("nobody:")
  );
  if (passwd) {
    const [, , uid, gid] = passwd.split(":");
    assertEquals(userByName("nobody"), { name: "nobody", uid: Number(uid), gid: Number(gid) });
  }
});
