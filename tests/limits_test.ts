import { assertEquals, assertOk } from "./assert.ts";
import { getLimit, prepareLimits, RLIMIT } from "../src/sys/mod.ts";

Deno.test("getLimit, prepareLimits: set a soft limit and read it back", () => {
  const before = getLimit(RLIMIT.CORE);
  assertOk(before.soft <= before.hard);
  const soft = before.hard === 0n ? 0n : before.hard < 4096n ? before.hard : 4096n;
  prepareLimits([[RLIMIT.CORE, { soft, hard: before.hard }]])();
  assertEquals(getLimit(RLIMIT.CORE), { soft, hard: before.hard });
  prepareLimits([[RLIMIT.CORE, before]])();
  assertEquals(getLimit(RLIMIT.CORE), before);
});
