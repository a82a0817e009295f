import { assertEquals } from "./assert.ts";
import { scanUlong } from "../src/cli/scan.ts";

const encoder = new TextEncoder();

Deno.test("scanUlong: leading digits and their count, as djb's scan_ulong", () => {
  assertEquals(scanUlong("42"), { value: 42n, length: 2 });
  assertEquals(scanUlong("007x9"), { value: 7n, length: 3 });
  assertEquals(scanUlong(""), { value: 0n, length: 0 });
  assertEquals(scanUlong("-5"), { value: 0n, length: 0 });
  assertEquals(scanUlong(" 5"), { value: 0n, length: 0 });
  // Only ASCII digits: "٣" (Arabic-Indic three) and "５" (fullwidth five) are not.
  assertEquals(scanUlong("1٣"), { value: 1n, length: 1 });
  assertEquals(scanUlong("５"), { value: 0n, length: 0 });
  // The characters just outside '0'..'9' end the number.
  assertEquals(scanUlong("1/"), { value: 1n, length: 1 });
  assertEquals(scanUlong("1:"), { value: 1n, length: 1 });
});

Deno.test("scanUlong: bytes, from an offset", () => {
  const line = encoder.encode("s100000k");
  assertEquals(scanUlong(line, { at: 1 }), { value: 100000n, length: 6 });
  assertEquals(scanUlong(line), { value: 0n, length: 0 });
  assertEquals(scanUlong(line, { at: 8 }), { value: 0n, length: 0 });
  assertEquals(scanUlong("a12b34", { at: 4 }), { value: 34n, length: 2 });
});

Deno.test("scanUlong: wraps at 2^64 as C's unsigned long does", () => {
  assertEquals(scanUlong("18446744073709551615").value, 18446744073709551615n);
  assertEquals(scanUlong("18446744073709551616").value, 0n);
  assertEquals(scanUlong("18446744073709551617").value, 1n);
  // Far beyond 2^53 the value stays exact (no floating point on the way).
  assertEquals(scanUlong("9007199254740993").value, 9007199254740993n);
  assertEquals(scanUlong("99999999999999999999999").length, 23);
  assertEquals(scanUlong("99999999999999999999999").value, 99999999999999999999999n % 2n ** 64n);
});
