/**
 * The parser for a log directory's `config` file, line by line as runit
 * reads it (numbers scanned as C's scan_ulong does: leading digits, anything
 * after them ignored but for the unit letter).
 *
 * @module
 */

import { scanUlong } from "../cli/scan.ts";

/** One `+ - e E` line: what it selects or deselects, and its pattern. */
export interface PatternRule {
  /** `+`/`-` select or deselect for the log; `e`/`E` for standard error. */
  kind: "+" | "-" | "e" | "E";
  /** The pattern bytes, without the leading letter. */
  pattern: Uint8Array;
}

/** Where `u`/`U` lines send datagrams. */
export interface UdpTarget {
  /** IPv4 address as four octets. */
  address: number[];
  /** UDP port (514, syslog, unless given). */
  port: number;
}

/** One log directory's settings. */
export interface LogConfig {
  /** `s`: rotate when current reaches this many bytes; 0 never. */
  sizeMax: number;
  /** `n`: keep at most this many old files; 0 keeps all. */
  countMax: number;
  /** `N`: on a full filesystem, delete old files while more than this many. */
  countMin: number;
  /** `t`: rotate a non-empty current this many seconds after the last rotation; 0 never. */
  timeMax: number;
  /** `!`: the processor's shell command, or "" for none. */
  processor: string;
  /** `u`/`U`: forward selected lines by UDP. */
  udp?: UdpTarget;
  /** `U`: forward only, do not write the log. */
  udpOnly: boolean;
  /** `p`: bytes put before every line. */
  prefix: Uint8Array;
  /** The `+ - e E` lines in file order. */
  patterns: PatternRule[];
  /** Warnings to print (without the `svlogd: warning: ` head). */
  warnings: string[];
}

/**
 * The settings a log directory has without a config file.
 *
 * @example
 * ```ts
 * import { defaultConfig } from "./config.ts";
 * defaultConfig().sizeMax; // 1000000
 * ```
 */
export function defaultConfig(): LogConfig {
  return {
    sizeMax: 1000000,
    countMax: 10,
    countMin: 10,
    timeMax: 0,
    processor: "",
    udpOnly: false,
    prefix: new Uint8Array(0),
    patterns: [],
    warnings: [],
  };
}

/** Multipliers for `s` (k, m) and `t` (m, h) suffixes, by character code. */
const SIZE_UNITS: Record<number, number> = { 0x6b: 1024, 0x6d: 1048576 };
const TIME_UNITS: Record<number, number> = { 0x6d: 60, 0x68: 3600 };

/** A number followed by an optional unit suffix, as runit's `s` and `t` lines read. */
function scanWithUnit(bytes: Uint8Array, units: Record<number, number>): number {
  const { value, length } = scanUlong(bytes);
  return Number(value) * (units[bytes[length]] ?? 1);
}

/** An IPv4 address at the start of `text`: octets and length, or undefined. */
function scanAddress(text: Uint8Array): [number[], number] | undefined {
  const octets: number[] = [];
  let at = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (text[at] !== 0x2e) return undefined;
      at++;
    }
    const { value, length } = scanUlong(text, { at });
    if (length === 0) return undefined;
    octets.push(Number(value & 0xffn));
    at += length;
  }
  return [octets, at];
}

const decoder = new TextDecoder();

/**
 * Parse a config file's bytes. Unknown lines are ignored, as runit does.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const config = parseConfig(new TextEncoder().encode("s100k\nn5\n-*debug*\n"));
 * config.sizeMax; // 102400
 * config.countMax; // 5
 * ```
 */
export function parseConfig(bytes: Uint8Array): LogConfig {
  const config = defaultConfig();
  // runit's loop stops when one byte is left, so a final one-letter line
  // without a newline is ignored.
  for (let i = 0; i + 1 < bytes.length; i++) {
    let end = bytes.indexOf(0x0a, i);
    if (end === -1) end = bytes.length;
    const line = bytes.subarray(i, end);
    const rest = line.subarray(1);
    switch (line[0]) {
      case 0x2b: // +
      case 0x2d: // -
      case 0x65: // e
      case 0x45: // E
        config.patterns.push({
          kind: String.fromCharCode(line[0]) as PatternRule["kind"],
          pattern: rest.slice(),
        });
        break;
      case 0x73: // s
        config.sizeMax = scanWithUnit(rest, SIZE_UNITS);
        break;
      case 0x6e: // n
        config.countMax = Number(scanUlong(rest).value);
        break;
      case 0x4e: // N
        config.countMin = Number(scanUlong(rest).value);
        break;
      case 0x74: // t
        config.timeMax = scanWithUnit(rest, TIME_UNITS);
        break;
      case 0x21: // !
        if (line.length > 1) config.processor = decoder.decode(rest);
        break;
      case 0x55: // U
      case 0x75: { // u
        if (line[0] === 0x55) config.udpOnly = true;
        const scanned = scanAddress(rest);
        if (!scanned) {
          config.warnings.push(`unable to scan ip address: ${decoder.decode(rest)}`);
          break;
        }
        const [address, length] = scanned;
        let port = 514;
        if (rest[length] === 0x3a) {
          port = Number(scanUlong(rest, { at: length + 1 }).value);
          if (port === 0) {
            config.warnings.push(
              `unable to scan port number: ${decoder.decode(rest.subarray(length + 1))}`,
            );
            break;
          }
        }
        config.udp = { address, port: port & 0xffff };
        break;
      }
      case 0x70: // p
        if (line.length > 1) config.prefix = rest.slice();
        break;
    }
    i = end;
  }
  return config;
}
