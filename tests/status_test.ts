import { assertEquals, assertThrows } from "./assert.ts";
import {
  decodeStatus,
  encodeStatus,
  formatStat,
  type ServiceStatus,
} from "../src/supervise/status.ts";

const RUNNING: ServiceStatus = {
  sec: 1700000000,
  nsec: 123456789,
  pid: 0x01020304,
  paused: false,
  want: "up",
  gotTerm: false,
  state: "run",
};

Deno.test("status: encodes runit's 20-byte layout", () => {
  const bytes = encodeStatus(RUNNING);
  assertEquals(bytes.length, 20);
  const view = new DataView(bytes.buffer);
  // TAI64: 2^62 + 10 + Unix seconds, big-endian.
  assertEquals(view.getBigUint64(0, false), 4611686018427387914n + 1700000000n);
  assertEquals(view.getUint32(8, false), 123456789);
  // pid little-endian
  assertEquals([...bytes.subarray(12, 16)], [4, 3, 2, 1]);
  assertEquals([bytes[16], bytes[17], bytes[18], bytes[19]], [0, 0x75, 0, 1]);
});

Deno.test("status: flags and states round-trip", () => {
  for (const state of ["down", "run", "finish"] as const) {
    for (const want of ["up", "down"] as const) {
      const status = { ...RUNNING, state, want, paused: true, gotTerm: true };
      assertEquals(decodeStatus(encodeStatus(status)), status);
    }
  }
  const bytes = encodeStatus({ ...RUNNING, want: "down", paused: true, gotTerm: true });
  assertEquals([bytes[16], bytes[17], bytes[18]], [1, 0x64, 1]);
});

Deno.test("status: decodes bytes written by runit's runsv", () => {
  // Captured from Debian's runsv: down, want up, pid 0.
  const bytes = new Uint8Array([
    0x40,
    0,
    0,
    0,
    0x65,
    0x53,
    0xf1,
    0x00,
    0x1a,
    0x4a,
    0xab,
    0x40,
    0,
    0,
    0,
    0,
    0,
    0x75,
    0,
    0,
  ]);
  const status = decodeStatus(bytes);
  assertEquals(status.sec, 0x6553f100 - 10);
  assertEquals(status.state, "down");
  assertEquals(status.want, "up");
  assertEquals(status.pid, 0);
});

Deno.test("status: wrong size is a bad format", () => {
  assertThrows(() => decodeStatus(new Uint8Array(19)), RangeError);
});

Deno.test("stat: runit's text", () => {
  const base = { paused: false, gotTerm: false, want: "up" as const };
  assertEquals(formatStat({ ...base, state: "run" }), "run");
  assertEquals(formatStat({ ...base, state: "down", want: "down" }), "down");
  assertEquals(
    formatStat({ state: "run", paused: true, gotTerm: true, want: "down" }),
    "run, paused, got TERM, want down",
  );
  assertEquals(formatStat({ ...base, state: "finish", want: "exit" }), "finish, want exit");
});
