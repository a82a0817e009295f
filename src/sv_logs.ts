/**
 * `sv logs [-f] [-n N] service…`: the last lines of a service's log, read
 * from the directories its logger writes, with svlogd's stamps shown as
 * local time; `-f` follows `current` across rotations. Loaded only when the
 * command is `logs`, so the rest of sv does not pay for it.
 *
 * Which directories: those a hosted logger recorded in
 * `log/supervise/logdirs` (see src/supervise/logdirs.ts); otherwise
 * `log/main` when it is a directory; otherwise the directory arguments of
 * the `svlogd` command in `log/run` (see {@link logDirs}).
 *
 * @module
 */

import { getopt } from "./cli/getopt.ts";
import { usage, writeErr, writeOut } from "./cli/output.ts";
import { USAGE } from "./cli/program.ts";
import { TAI64_EPOCH } from "./supervise/status.ts";
import { closeFd } from "./sys/fs.ts";
import { errnoOf, errorText } from "./sys/errno.ts";
import { catchSignal, uncatchSignal } from "./sys/signals.ts";
import { openServiceDir } from "./supervise/client.ts";
import { recordedLogDirs } from "./supervise/logdirs.ts";
import { servicePath } from "./sv.ts";

/** How often `-f` looks at the log again, in ms. */
const FOLLOW_INTERVAL = 100;

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Shell-like words of one line: split on blanks, quotes removed, `#` starts a comment. */
function wordsOf(line: string): string[] {
  const words: string[] = [];
  for (const match of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    const word = match[1] ?? match[2] ?? match[3];
    if (match[3]?.startsWith("#")) break;
    words.push(word);
  }
  return words;
}

/**
 * The log directories of the service in `dir`: those its hosted logger
 * recorded in `log/supervise/logdirs`, when any of them is a directory;
 * otherwise, by this rule: `log/main` when it is a directory; otherwise, in
 * `log/run`, the last line with a word naming `svlogd` (`svlogd`,
 * `/usr/bin/svlogd`, `runit svlogd`, after `exec`, `chpst …`), and of the
 * words after it the last ones that are directories (relative to `log/`
 * unless absolute). Empty when none is found.
 *
 * @example
 * ```ts ignore
 * import { logDirs } from "./sv_logs.ts";
 * logDirs("/etc/service/web"); // ["/etc/service/web/log/main"]
 * ```
 */
export function logDirs(dir: string): string[] {
  const recorded = recordedLogDirs(dir);
  if (recorded) return recorded;
  const logDir = `${dir.replace(/\/+$/, "")}/log`;
  if (isDirectory(`${logDir}/main`)) return [`${logDir}/main`];
  let run: string;
  try {
    run = Deno.readTextFileSync(`${logDir}/run`);
  } catch {
    return [];
  }
  let found: string[] = [];
  for (const line of run.replace(/\\\n/g, " ").split("\n")) {
    const words = wordsOf(line);
    const at = words.findLastIndex((word) => word.split("/").pop() === "svlogd");
    if (at === -1) continue;
    const dirs: string[] = [];
    for (const word of words.slice(at + 1).reverse()) {
      const path = word.startsWith("/") ? word : `${logDir}/${word}`;
      if (word.startsWith("-") || !isDirectory(path)) break;
      dirs.unshift(path.replace(/\/(\.\/)+/g, "/").replace(/\/+$/, "").replace(/\/\.$/, ""));
    }
    if (dirs.length > 0) found = dirs;
  }
  return found;
}

function pad(value: number, digits: number): string {
  return String(value).padStart(digits, "0");
}

/** `YYYY-MM-DD HH:MM:SS.` in local time, then `fraction`. */
function localTime(unixSec: number, fraction: string): string {
  const d = new Date(unixSec * 1000);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)} ` +
    `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${fraction}`;
}

const TAI64N = /^@([0-9a-f]{16})([0-9a-f]{8}) /;
const READABLE = /^(\d{4})-(\d\d)-(\d\d)[_T](\d\d):(\d\d):(\d\d)\.(\d{5}) /;

/**
 * A log line with its svlogd stamp (`-t` TAI64N, `-tt`, `-ttt`, which are
 * UTC) replaced by local time `YYYY-MM-DD HH:MM:SS.fraction` (9 digits for
 * TAI64N, as tai64nlocal; 5 for the others). Lines without a stamp are kept.
 *
 * @example
 * ```ts
 * import { localStamp } from "./sv_logs.ts";
 * // With TZ=UTC:
 * localStamp("@400000000000000a00000001 hello"); // "1970-01-01 00:00:00.000000001 hello"
 * localStamp("2005-12-18_09:13:50.97618 hello"); // "2005-12-18 09:13:50.97618 hello"
 * ```
 */
export function localStamp(line: string): string {
  const tai = TAI64N.exec(line);
  if (tai) {
    const sec = Number(BigInt(`0x${tai[1]}`) - TAI64_EPOCH);
    const nsec = parseInt(tai[2], 16);
    return `${localTime(sec, pad(nsec, 9))} ${line.slice(26)}`;
  }
  const r = READABLE.exec(line);
  if (r) {
    const sec = Date.UTC(+r[1], +r[2] - 1, +r[3], +r[4], +r[5], +r[6]) / 1000;
    return `${localTime(sec, r[7])} ${line.slice(26)}`;
  }
  return line;
}

/** A log directory's rotated files (`@*.s`, `@*.u`), oldest first. */
function rotated(dir: string): { name: string; ino: number | null }[] {
  const files: { name: string; ino: number | null }[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.isFile || !/^@[0-9a-f]{24}\.[su]$/.test(entry.name)) continue;
    try {
      files.push({ name: entry.name, ino: Deno.statSync(`${dir}/${entry.name}`).ino });
    } catch {
      // Removed meanwhile (svlogd deletes the oldest).
    }
  }
  return files.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** Complete lines of `text`, and what follows the last newline. */
function splitLines(text: string): { lines: string[]; rest: string } {
  const lines = text.split("\n");
  const rest = lines.pop()!;
  return { lines, rest };
}

function readAll(file: Deno.FsFile): Uint8Array {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  let total = 0;
  for (;;) {
    const n = file.readSync(buffer);
    if (n === null || n === 0) break;
    chunks.push(buffer.slice(0, n));
    total += n;
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/** One log directory being shown: its `current` held open to follow it. */
class Source {
  readonly prefix: string;
  readonly dir: string;
  file: Deno.FsFile | undefined;
  ino: number | null = null;
  rest = "";
  decoder = new TextDecoder();
  known = new Set<string>();

  constructor(dir: string, prefix: string) {
    this.dir = dir;
    this.prefix = prefix;
  }

  /** The last `count` lines (a line cut short at the end of `current` counts, unless following). */
  tail(count: number, follow: boolean): string[] {
    let lines: string[] = [];
    try {
      this.file = Deno.openSync(`${this.dir}/current`);
      this.ino = this.file.statSync().ino;
      const split = splitLines(this.decoder.decode(readAll(this.file), { stream: true }));
      lines = split.lines;
      if (follow) this.rest = split.rest;
      else if (split.rest !== "") lines.push(split.rest);
    } catch {
      // No `current` yet: svlogd creates it.
    }
    const older = rotated(this.dir);
    for (const { name } of older) this.known.add(name);
    for (const { name, ino } of older.reverse()) {
      if (lines.length >= count) break;
      if (ino !== null && ino === this.ino) continue; // rotated since we opened it
      try {
        lines = [...splitLines(Deno.readTextFileSync(`${this.dir}/${name}`)).lines, ...lines];
      } catch {
        // Removed meanwhile.
      }
    }
    if (!follow) this.close();
    return count === 0 ? [] : lines.slice(-count);
  }

  /** The lines written since the last look, across rotations. */
  poll(): string[] {
    const lines: string[] = [];
    const take = (bytes: Uint8Array, end: boolean) => {
      const split = splitLines(this.rest + this.decoder.decode(bytes, { stream: !end }));
      lines.push(...split.lines);
      this.rest = split.rest;
      if (end && this.rest !== "") {
        lines.push(this.rest);
        this.rest = "";
      }
    };
    if (this.file) take(readAll(this.file), false);
    let ino: number | null;
    try {
      ino = Deno.statSync(`${this.dir}/current`).ino;
    } catch {
      return lines; // Between rename and create: look again later.
    }
    if (this.file && ino === this.ino) return lines;
    // Rotated: finish the old file, then any rotated in between, then the new current.
    if (this.file) take(readAll(this.file), true);
    for (const { name, ino: rotatedIno } of rotated(this.dir)) {
      if (this.known.has(name)) continue;
      this.known.add(name);
      if (!this.file || rotatedIno === this.ino) continue;
      try {
        take(Deno.readFileSync(`${this.dir}/${name}`), true);
      } catch {
        // Removed meanwhile.
      }
    }
    this.close();
    this.decoder = new TextDecoder();
    try {
      this.file = Deno.openSync(`${this.dir}/current`);
      this.ino = this.file.statSync().ino;
      take(readAll(this.file), false);
    } catch {
      this.file = undefined;
    }
    return lines;
  }

  close(): void {
    this.file?.close();
    this.file = undefined;
  }
}

/**
 * Run `sv logs` with the arguments after `logs`; resolves with the exit code
 * (the number of services without a log, at most 99).
 *
 * @example
 * ```ts ignore
 * import { main } from "./sv_logs.ts";
 * await main(["-n", "20", "web"], { program: "sv", svdir: "/etc/service" });
 * ```
 */
export async function main(
  args: string[],
  options: { program: string; svdir: string },
): Promise<number> {
  const { program } = options;
  const showUsage = () => usage(program, { args: USAGE.svLogs, code: 100 });
  const parsed = getopt(args, "fn:", { program });
  if (!parsed.ok) showUsage();
  let follow = false;
  let count = 10;
  for (const option of parsed.options) {
    if (option.name === "f") follow = true;
    if (option.name === "n") {
      if (!/^\d+$/.test(option.value!)) showUsage();
      count = Number(option.value);
    }
  }
  if (parsed.operands.length === 0) showUsage();
  let rc = 0;
  const found: { service: string; dirs: string[] }[] = [];
  for (const service of parsed.operands) {
    const path = servicePath(service, options.svdir);
    try {
      closeFd(openServiceDir(path));
    } catch (error) {
      writeOut(
        `fail: ${service}: unable to change to service directory: ${errorText(errnoOf(error))}\n`,
      );
      rc++;
      continue;
    }
    const dirs = logDirs(path);
    if (dirs.length === 0) {
      writeOut(`fail: ${service}: no log directory found\n`);
      rc++;
      continue;
    }
    found.push({ service, dirs });
  }
  const several = found.length + found.reduce((n, { dirs }) => n + dirs.length - 1, 0) > 1;
  const sources = found.flatMap(({ service, dirs }) =>
    dirs.map((dir) => {
      const label = dirs.length > 1 ? `${service}/${dir.split("/").pop()}` : service;
      return new Source(dir, several ? `${label}: ` : "");
    })
  );
  const show = (source: Source, lines: string[]) => {
    if (lines.length === 0) return;
    writeOut(lines.map((line) => `${source.prefix}${localStamp(line)}\n`).join(""));
  };
  for (const source of sources) show(source, source.tail(count, follow));
  if (!follow || sources.length === 0) return Math.min(rc, 99);

  // Until INT or TERM: then exit 0 (as tail -f ends).
  await new Promise<void>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      clearTimeout(timer);
      uncatchSignal("SIGINT", stop);
      uncatchSignal("SIGTERM", stop);
      resolve();
    };
    catchSignal("SIGINT", stop);
    catchSignal("SIGTERM", stop);
    const look = () => {
      for (const source of sources) {
        let lines: string[];
        try {
          lines = source.poll();
        } catch (error) {
          writeErr(`warning: ${source.dir}: ${(error as Error).message}\n`);
          continue;
        }
        try {
          show(source, lines);
        } catch {
          return stop(); // Nobody reads any more (`sv logs -f web | head`): done.
        }
      }
      timer = setTimeout(look, FOLLOW_INTERVAL);
    };
    look();
  });
  for (const source of sources) source.close();
  return 0;
}
