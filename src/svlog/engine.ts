/**
 * The line engine: cuts standard input into lines and hands each line to the
 * log directories as runit's svlogd does — replacement (`-r`, `-R`) and
 * pattern matching on the first `-l` bytes, the stamp, the `p` prefix,
 * `e` echo to stderr, `u`/`U` datagrams — but in batches: a run of lines
 * that cannot trigger a rotation is copied into a log's buffer in one go.
 *
 * A line whose log must rotate first while that log's processor still runs
 * is not started: {@link LineEngine.consume} returns early with
 * {@link LineEngine.blocked} set, and the caller waits and calls again.
 *
 * @module
 */

import { closeFd, sendDatagram, udpSocket } from "../sys/mod.ts";
import type { LogDir } from "./logdir.ts";
import { patternMatch } from "./pattern.ts";
import { putStamp, type StampKind } from "./timestamp.ts";
import type { Timestamp } from "../sys/mod.ts";

/** Options for a {@link LineEngine}. */
export interface EngineOptions {
  /** `-t` count (0 to 3). */
  stamp: StampKind;
  /** `-l`: bytes of a line that are matched, echoed and sent (default 1000). */
  lineMax: number;
  /** `-r`: the replacement byte, or 0 for no replacement. */
  replaceChar: number;
  /** `-R`: further bytes to replace. */
  replaceSet: Uint8Array;
  /** Write bytes to standard error (`e` lines). */
  stderr: (bytes: Uint8Array) => void;
}

const NEWLINE = new Uint8Array([0x0a]);
const ELLIPSIS = new TextEncoder().encode("...");
const encoder = new TextEncoder();
/** An unfinished line longer than this is written out head first, the rest streamed. */
const CARRY_LIMIT = 1 << 20;
/**
 * The stamped copy of a batch, shared by every engine of the process: it is
 * filled and copied out within one synchronous call, and a supervisor that
 * hosts many loggers should not pay for one each.
 */
let expanded = new Uint8Array(1 << 16);

/**
 * Turns input bytes into log lines.
 *
 * @example
 * ```ts
 * import { LineEngine } from "./engine.ts";
 * const engine = new LineEngine([], {
 *   stamp: 0, lineMax: 1000, replaceChar: 0, replaceSet: new Uint8Array(0),
 *   stderr: (bytes) => Deno.stderr.writeSync(bytes),
 * });
 * engine.consume(new TextEncoder().encode("hello\n"), 0);
 * ```
 */
export class LineEngine {
  /** The log whose processor must finish before the engine can go on. */
  blocked: LogDir | undefined;

  #dirs: readonly LogDir[];
  #lineMax: number;
  #stampKind: StampKind;
  #stamp = new Uint8Array(26);
  #stampLength = 0;
  #table: Uint8Array | undefined;
  #scratch: Uint8Array;
  #carry = new Uint8Array(256);
  #carryLength = 0;
  #carryComplete = false;
  #carryHead = false;
  #tail = false;
  #stderr: (bytes: Uint8Array) => void;
  #udpFd = -1;

  constructor(dirs: readonly LogDir[], options: EngineOptions) {
    this.#dirs = dirs;
    this.#lineMax = options.lineMax;
    this.#stampKind = options.stamp;
    this.#stderr = options.stderr;
    // Only replacement uses it.
    this.#scratch = new Uint8Array(options.replaceChar !== 0 ? options.lineMax : 0);
    if (options.replaceChar !== 0) {
      const table = new Uint8Array(256);
      for (let c = 0; c < 256; c++) table[c] = c < 32 || c > 126 ? options.replaceChar : c;
      for (const c of options.replaceSet) table[c] = options.replaceChar;
      this.#table = table;
    }
  }

  /** Set the time stamped on the lines that follow (taken when input was read). */
  setTime(time: Timestamp): void {
    this.#stampLength = putStamp(this.#stamp, { kind: this.#stampKind, time });
  }

  /** True when no line is half read (runit's `linecomplete`). */
  get lineComplete(): boolean {
    return this.#carryLength === 0 && !this.#tail && !this.#carryComplete;
  }

  /**
   * Consume `data` from `start`; returns how far it got. Short of the end
   * only when {@link LineEngine.blocked} is set; call again after waiting.
   */
  consume(data: Uint8Array, start: number): number {
    this.blocked = undefined;
    if (!this.#drainCarry()) return start;
    const end = data.length;
    let pos = start;
    while (pos < end) {
      if (this.#tail) {
        const newline = data.indexOf(0x0a, pos);
        const stop = newline === -1 ? end : newline;
        for (const dir of this.#dirs) {
          if (this.#writes(dir)) dir.put(data, pos, stop);
        }
        if (newline === -1) return end;
        for (const dir of this.#dirs) {
          if (!this.#writes(dir)) continue;
          dir.put(NEWLINE);
          dir.lineEnded();
        }
        this.#tail = false;
        pos = newline + 1;
        continue;
      }
      const newline = data.indexOf(0x0a, pos);
      if (this.#carryLength > 0 || newline === -1) {
        const stop = newline === -1 ? end : newline + 1;
        this.#appendCarry(data, pos, stop);
        pos = stop;
        if (newline !== -1) this.#carryComplete = true;
        else if (this.#carryLength > Math.max(CARRY_LIMIT, this.#lineMax)) this.#carryHead = true;
        if (!this.#drainCarry()) return pos;
        continue;
      }
      const batched = this.#batch(data, pos);
      if (batched > pos) {
        pos = batched;
        continue;
      }
      if (!this.#emit(data, pos, newline, true)) return pos;
      pos = newline + 1;
    }
    return pos;
  }

  /**
   * At end of input: a last line without its newline is written (with one)
   * when it is at least `-l` bytes long, and dropped otherwise, as runit
   * does. False when blocked (wait, then call again).
   */
  finish(): boolean {
    this.blocked = undefined;
    if (!this.#drainCarry()) return false;
    if (this.#tail) {
      for (const dir of this.#dirs) {
        if (!this.#writes(dir)) continue;
        dir.put(NEWLINE);
        dir.lineEnded();
      }
      this.#tail = false;
      return true;
    }
    if (this.#carryLength >= this.#lineMax) {
      this.#appendCarry(NEWLINE, 0, 1);
      this.#carryComplete = true;
      return this.#drainCarry();
    }
    this.#carryLength = 0;
    return true;
  }

  /**
   * Give up the unfinished line read so far (its raw bytes, unstamped) for
   * another engine to {@link LineEngine.consume} first: undefined when
   * there is none, or when its head is already written (a line longer than
   * the carry limit), which only the same engine can finish.
   */
  takePartial(): Uint8Array | undefined {
    if (this.#tail || this.#carryHead || this.#carryComplete || this.#carryLength === 0) {
      return undefined;
    }
    const partial = this.#carry.slice(0, this.#carryLength);
    this.#carryLength = 0;
    return partial;
  }

  /** Release the UDP socket. */
  close(): void {
    closeFd(this.#udpFd);
    this.#udpFd = -1;
  }

  #writes(dir: LogDir): boolean {
    return dir.isOpen && dir.match === 0x2b && !dir.config.udpOnly;
  }

  #appendCarry(data: Uint8Array, start: number, stop: number): void {
    const need = this.#carryLength + stop - start;
    if (need > this.#carry.length) {
      const grown = new Uint8Array(Math.max(need, this.#carry.length * 2));
      grown.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = grown;
    }
    this.#carry.set(data.subarray(start, stop), this.#carryLength);
    this.#carryLength = need;
  }

  #drainCarry(): boolean {
    if (this.#carryComplete) {
      if (!this.#emit(this.#carry, 0, this.#carryLength - 1, true)) return false;
      this.#carryComplete = false;
      this.#carryLength = 0;
    } else if (this.#carryHead) {
      if (!this.#emit(this.#carry, 0, this.#carryLength, false)) return false;
      this.#carryHead = false;
      this.#carryLength = 0;
      this.#tail = true;
    }
    return true;
  }

  /**
   * The fast path: when every log takes every line unchanged (no patterns,
   * replacement, prefix or forwarding), copy a run of complete lines from
   * `pos` at once, stamped, as long as no log reaches its rotation point
   * within the run. Returns the new position (`pos` when no line fits).
   */
  #batch(data: Uint8Array, pos: number): number {
    if (this.#table !== undefined) return pos;
    let budget = Infinity;
    for (const dir of this.#dirs) {
      if (!dir.isOpen) continue;
      const config = dir.config;
      if (config.patterns.length > 0 || config.prefix.length > 0 || config.udp) return pos;
      if (dir.rotatePending) return pos;
      const max = config.sizeMax;
      if (max === 0) continue;
      const room = max >= this.#lineMax ? max - this.#lineMax - dir.size - 1 : max - dir.size;
      budget = Math.min(budget, room);
    }
    const stamp = this.#stamp;
    const stampLength = this.#stampLength;
    let out = expanded;
    let used = 0;
    let at = pos;
    for (;;) {
      const newline = data.indexOf(0x0a, at);
      if (newline === -1) break;
      const length = newline + 1 - at;
      if (used + stampLength + length > budget) break;
      if (stampLength > 0) {
        if (used + stampLength + length > out.length) {
          const grown = new Uint8Array(Math.max(out.length * 2, used + stampLength + length));
          grown.set(out.subarray(0, used));
          out = expanded = grown;
        }
        out.set(stamp, used);
        out.set(data.subarray(at, newline + 1), used + stampLength);
      }
      used += stampLength + length;
      at = newline + 1;
    }
    if (at === pos) return pos;
    for (const dir of this.#dirs) {
      if (!dir.isOpen) continue;
      if (stampLength > 0) dir.put(out, 0, used);
      else dir.put(data, pos, at);
      dir.commit();
    }
    return at;
  }

  /**
   * One line: `data[start, end)` is its text; with `newline`, `data[end]` is
   * its newline, otherwise the rest follows later (an over-long line).
   */
  #emit(data: Uint8Array, start: number, end: number, newline: boolean): boolean {
    const length = end - start;
    const headLength = Math.min(length, this.#lineMax);
    let head = data;
    let headStart = start;
    const table = this.#table;
    if (table !== undefined) {
      const scratch = this.#scratch;
      for (let i = 0; i < headLength; i++) scratch[i] = table[data[start + i]];
      head = scratch;
      headStart = 0;
    }
    const headEnd = headStart + headLength;
    const truncated = length >= this.#lineMax;
    for (const dir of this.#dirs) {
      if (!dir.isOpen) continue;
      dir.match = 0x2b;
      dir.matchErr = 0x45;
      for (const rule of dir.config.patterns) {
        if (!patternMatch(rule.pattern, head, { start: headStart, end: headEnd })) continue;
        if (rule.kind === "+" || rule.kind === "-") dir.match = rule.kind.charCodeAt(0);
        else dir.matchErr = rule.kind.charCodeAt(0);
      }
    }
    const size = this.#stampLength + length + (newline ? 1 : 0);
    for (const dir of this.#dirs) {
      if (!dir.isOpen) continue;
      const due = dir.rotatePending ||
        (this.#writes(dir) && dir.mustRotateBefore(size + dir.config.prefix.length));
      if (!due) continue;
      if (dir.processorBusy) {
        this.blocked = dir;
        return false;
      }
      dir.rotate();
    }
    for (const dir of this.#dirs) {
      if (!dir.isOpen) continue;
      const prefix = dir.config.prefix;
      if (dir.matchErr === 0x65) {
        this.#stderr(this.#message(prefix, head.subarray(headStart, headEnd), truncated));
      }
      if (dir.match !== 0x2b) continue;
      if (dir.config.udp) this.#forward(dir, head.subarray(headStart, headEnd), truncated);
      if (dir.config.udpOnly) continue;
      if (this.#stampLength > 0) dir.put(this.#stamp, 0, this.#stampLength);
      if (prefix.length > 0) dir.put(prefix);
      if (table === undefined) {
        dir.put(data, start, newline ? end + 1 : end);
      } else {
        dir.put(head, headStart, headEnd);
        if (length > headLength) dir.put(data, start + headLength, end);
        if (newline) dir.put(NEWLINE);
      }
      if (newline) dir.lineEnded();
    }
    return true;
  }

  /** stamp, prefix, the matched head, `...` when cut, newline. */
  #message(prefix: Uint8Array, head: Uint8Array, truncated: boolean): Uint8Array {
    const out = new Uint8Array(
      this.#stampLength + prefix.length + head.length + (truncated ? 3 : 0) + 1,
    );
    out.set(this.#stamp.subarray(0, this.#stampLength));
    let at = this.#stampLength;
    out.set(prefix, at);
    at += prefix.length;
    out.set(head, at);
    at += head.length;
    if (truncated) {
      out.set(ELLIPSIS, at);
      at += 3;
    }
    out[at] = 0x0a;
    return out;
  }

  /** `u`/`U`: send the line; failures are written into the log, as runit does. */
  #forward(dir: LogDir, head: Uint8Array, truncated: boolean): void {
    const udp = dir.config.udp!;
    const message = this.#message(dir.config.prefix, head, truncated);
    if (this.#udpFd === -1) {
      try {
        this.#udpFd = udpSocket();
      } catch {
        dir.put(encoder.encode("warning: no udp socket available: "));
        dir.put(message.subarray(0, message.length - 1 - (truncated ? 3 : 0)));
        dir.put(NEWLINE);
        return;
      }
    }
    const sent = sendDatagram(this.#udpFd, message as Uint8Array<ArrayBuffer>, udp);
    if (sent !== message.length) {
      dir.put(encoder.encode("warning: failure sending through udp: "));
      dir.put(message);
    }
  }
}
