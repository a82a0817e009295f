/**
 * The codec for runit's `supervise/status` (20 bytes, daemontools-compatible)
 * and the text of `supervise/stat`. The single home of this format: the
 * supervisor writes with it, `sv` and the library read with it.
 *
 * @module
 */

/** What a supervised process is doing. */
export type RunState = "down" | "run" | "finish";

/** What the supervisor has been asked for. `exit` is shown as `down` on disk. */
export type Want = "up" | "down" | "exit";

/** A decoded `supervise/status`. */
export interface ServiceStatus {
  /** Unix seconds of the last state change. */
  sec: number;
  /** Nanoseconds within that second. */
  nsec: number;
  /** The pid of `./run` or `./finish`, 0 when none runs. */
  pid: number;
  /** Sent STOP by `p` and not continued since. */
  paused: boolean;
  /** `up` when the service should be running, else `down`. */
  want: "up" | "down";
  /** A TERM was sent and the process has not exited since. */
  gotTerm: boolean;
  /** down, run or finish. */
  state: RunState;
}

/** The size of `supervise/status` in bytes. */
export const STATUS_SIZE = 20;

/**
 * The TAI64 label of the Unix epoch: 2^62 + 10 (the TAI-UTC offset that
 * libtai, and so runit, assumes). A label is this plus Unix seconds, in
 * `supervise/status` and in svlogd's `@…` stamps alike.
 *
 * @example
 * ```ts
 * import { TAI64_EPOCH } from "./status.ts";
 * (TAI64_EPOCH + 1700000000n).toString(16); // "400000006553f10a"
 * ```
 */
export const TAI64_EPOCH: bigint = (1n << 62n) + 10n;

const STATES: readonly RunState[] = ["down", "run", "finish"];

/** The size of a TAI64N label: 8 bytes of TAI64 seconds, 4 of nanoseconds. */
export const TAI64N_SIZE = 12;

/**
 * A moment as a 12-byte TAI64N label (big-endian), as the first 12 bytes of
 * `supervise/status` hold it and as `supervise/ready` holds it alone.
 *
 * @example
 * ```ts
 * import { encodeTai64n } from "./status.ts";
 * encodeTai64n({ sec: 1700000000, nsec: 5 }).length; // 12
 * ```
 */
export function encodeTai64n(stamp: { sec: number; nsec: number }): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(TAI64N_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, TAI64_EPOCH + BigInt(stamp.sec), false);
  view.setUint32(8, stamp.nsec, false);
  return bytes;
}

/**
 * The Unix seconds and nanoseconds of a 12-byte TAI64N label; throws
 * RangeError on any other length.
 *
 * @example
 * ```ts
 * import { decodeTai64n, encodeTai64n } from "./status.ts";
 * decodeTai64n(encodeTai64n({ sec: 1700000000, nsec: 5 })); // { sec: 1700000000, nsec: 5 }
 * ```
 */
export function decodeTai64n(bytes: Uint8Array): { sec: number; nsec: number } {
  if (bytes.length !== TAI64N_SIZE) throw new RangeError("bad format");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { sec: Number(view.getBigUint64(0, false) - TAI64_EPOCH), nsec: view.getUint32(8, false) };
}

/**
 * Encode a status as runit's 20 bytes.
 *
 * @example
 * ```ts
 * import { encodeStatus } from "./status.ts";
 * const bytes = encodeStatus({
 *   sec: 1700000000, nsec: 0, pid: 42, paused: false, want: "up", gotTerm: false, state: "run",
 * });
 * bytes.length; // 20
 * ```
 */
export function encodeStatus(status: ServiceStatus): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(STATUS_SIZE);
  const view = new DataView(bytes.buffer);
  bytes.set(encodeTai64n(status));
  view.setUint32(12, status.pid, true);
  bytes[16] = status.paused ? 1 : 0;
  bytes[17] = status.want === "up" ? 0x75 : 0x64;
  bytes[18] = status.gotTerm ? 1 : 0;
  bytes[19] = STATES.indexOf(status.state);
  return bytes;
}

/**
 * Decode runit's 20 bytes; throws RangeError on any other length.
 *
 * @example
 * ```ts
 * import { decodeStatus, encodeStatus } from "./status.ts";
 * const status = decodeStatus(encodeStatus({
 *   sec: 1, nsec: 2, pid: 3, paused: true, want: "down", gotTerm: true, state: "finish",
 * }));
 * status.pid; // 3
 * ```
 */
export function decodeStatus(bytes: Uint8Array): ServiceStatus {
  if (bytes.length !== STATUS_SIZE) throw new RangeError("bad format");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    ...decodeTai64n(bytes.subarray(0, TAI64N_SIZE)),
    pid: view.getUint32(12, true),
    paused: bytes[16] !== 0,
    want: bytes[17] === 0x75 ? "up" : "down",
    gotTerm: bytes[18] !== 0,
    state: STATES[bytes[19]] ?? "down",
  };
}

/**
 * The line runit writes to `supervise/stat` (without its newline).
 *
 * @example
 * ```ts
 * import { formatStat } from "./status.ts";
 * formatStat({ state: "run", paused: true, gotTerm: false, want: "down" });
 * // "run, paused, want down"
 * ```
 */
export function formatStat(
  status: { state: RunState; paused: boolean; gotTerm: boolean; want: Want },
): string {
  let line: string = status.state;
  if (status.paused) line += ", paused";
  if (status.gotTerm) line += ", got TERM";
  if (status.state !== "down") {
    if (status.want === "down") line += ", want down";
    if (status.want === "exit") line += ", want exit";
  }
  return line;
}
