import { assertEquals } from "./assert.ts";
import { putReadable, putStamp, putTai64n, rotatedName } from "../src/svlog/timestamp.ts";

const decoder = new TextDecoder();

function stamp(kind: 0 | 1 | 2 | 3, sec: number, nsec: number): string {
  const out = new Uint8Array(26);
  const n = putStamp(out, { kind, time: { sec, nsec } });
  return decoder.decode(out.subarray(0, n));
}

Deno.test("timestamp: TAI64N labels run 10 s ahead of Unix time", () => {
  const out = new Uint8Array(25);
  putTai64n(out, { sec: 1134897230, nsec: 0x1234 });
  assertEquals(decoder.decode(out), "@4000000043a5285800001234");
  assertEquals(stamp(1, 0, 0), "@400000000000000a00000000 ");
});

Deno.test("timestamp: readable UTC stamps with five fraction digits", () => {
  assertEquals(stamp(2, 1134897230, 976189999), "2005-12-18_09:13:50.97618 ");
  assertEquals(stamp(3, 1134897230, 5000), "2005-12-18T09:13:50.00000 ");
  const out = new Uint8Array(25);
  putReadable(out, { sec: 951782400, nsec: 0 }, { separator: "_" });
  assertEquals(decoder.decode(out), "2000-02-29_00:00:00.00000");
  assertEquals(stamp(0, 1, 1), "");
});

Deno.test("timestamp: rotated file names", () => {
  assertEquals(rotatedName({ sec: 0, nsec: 1 }, "s"), "@400000000000000a00000001.s");
  assertEquals(rotatedName({ sec: 0, nsec: 1 }, "u").length, 27);
});

Deno.test("timestamp: the same TAI64N as the tai64n convention for now", () => {
  const now = Math.floor(Date.now() / 1000);
  const label = stamp(1, now, 0);
  assertEquals(BigInt(`0x${label.slice(1, 17)}`) - 2n ** 62n, BigInt(now + 10));
});
