/**
 * What the svlogd tests share: the cases run against Debian's svlogd, and a
 * log directory turned into comparable text (stamps by format, rotated
 * names by order), and how a case is set up and run.
 *
 * @module
 */

import { within } from "./helpers.ts";

const STAMPS: Array<[RegExp, string]> = [
  [/@4000000[0-9a-f]{17} /g, "<tai64n> "],
  [/@4000000[0-9a-f]{17}\.([stu])/g, "<rotated>.$1"],
  [/\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.\d{5} /g, "<tt> "],
  [/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{5} /g, "<ttt> "],
];

export function normalize(text: string): string {
  for (const [pattern, replacement] of STAMPS) text = text.replace(pattern, replacement);
  return text;
}

/** A log directory as text: names (rotated ones numbered in order), modes, contents. */
export function snapshot(dir: string): string {
  const names = [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
  let rotated = 0;
  return names.map((name) => {
    const path = `${dir}/${name}`;
    const mode = (Deno.statSync(path).mode! & 0o777).toString(8);
    const shown = /^@[0-9a-f]{24}\.[stu]$/.test(name) ? `@${rotated++}${name.slice(25)}` : name;
    const body = name === "lock" ? "" : normalize(Deno.readTextFileSync(path));
    return `${shown} ${mode}\n${body}`;
  }).join("---\n");
}

export interface Case {
  args: string[];
  input: string | Uint8Array;
  config?: string;
  dirs?: number;
}

export const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${"x".repeat(i % 37)}\n`)
  .join("");

export const CASES: Record<string, Case> = {
  plain: { args: [], input: "one\ntwo\n\nthree\n" },
  "partial last line is dropped": { args: [], input: "one\ntwo\nthree" },
  "partial last line longer than -l": { args: ["-l", "4", "-b", "5"], input: "a\nabcdefgh" },
  "-t": { args: ["-t"], input: "one\ntwo\n" },
  "-tt": { args: ["-tt"], input: "one\ntwo\n" },
  "-ttt and -tttt": { args: ["-tttt"], input: "one\ntwo\n" },
  "-r -R": {
    args: ["-r", "X", "-R", " b"],
    input: new Uint8Array([0x61, 0x01, 0x62, 0x09, 0x63, 0x20, 0xe9, 0x64, 0x0a]),
  },
  "-R alone uses _": { args: ["-R", "ac"], input: "abcabc\n\x7fz\n" },
  "-l cuts matching and replacement, not the line": {
    args: ["-l", "5", "-b", "6", "-r", "_"],
    input: "a\tb\tc\td\te\tf\n",
    config: "e*\n",
  },
  "rotation by size and count": {
    args: ["-l", "100", "-b", "101"],
    input: lines,
    config: "s500\nn3\n",
  },
  "rotation with -tt and -l": {
    args: ["-tt", "-l", "80", "-b", "100"],
    input: lines,
    config: "s700\nn0\n",
  },
  "s0 never rotates": { args: [], input: lines, config: "s0\n" },
  "s with k and an N line": { args: [], input: lines.repeat(4), config: "s1k\nn2\nN1\n" },
  "man page patterns": {
    args: ["-tt"],
    input: "tcpsvd: info: pid 1977 from 10.4.1.14\ntcpsvd: info: end 1977 exit 0\n" +
      "other: pid 3\n",
    config: "-*pid*\n",
    dirs: 1,
  },
  "man page patterns, the working one": {
    args: [],
    input: "tcpsvd: info: pid 1977 from 10.4.1.14\ntcpsvd: info: end 1977 exit 0\n",
    config: "-*: *: pid *\n",
  },
  "select, deselect and stderr": {
    args: ["-t"],
    input: "error: disk\nwarning: x\ninfo: y\nerror: net\nerr\n",
    config: "-*\n+error: *\ne*\nEerror: net\n+warn*\n",
  },
  "plus patterns": {
    args: [],
    input: "aaab\nab\nb\naaa\nxaab\n",
    config: "-+ab\n",
  },
  "prefix, two logs": {
    args: ["-tt"],
    input: "one\ntwo\n",
    config: "p[%i] \ne*\n",
    dirs: 2,
  },
  "-v: what it says while rotating": {
    args: ["-v", "-l", "40", "-b", "50"],
    input: lines.slice(0, 2000),
    config: "s300\nn2\n",
  },
  "config oddities": {
    args: [],
    input: "one\n",
    config: "# comment\n\nufoo\nu1.2.3.4:0\nbogus\nn",
  },
};

/** Make `test`'s log directories `log0`, `log1`, … under `root`, with its config; their names. */
export async function logDirs(root: string, test: Case): Promise<string[]> {
  const dirs: string[] = [];
  for (let i = 0; i < (test.dirs ?? 1); i++) {
    await Deno.mkdir(`${root}/log${i}`, { recursive: true });
    if (test.config !== undefined) {
      await Deno.writeTextFile(`${root}/log${i}/config`, test.config.replaceAll("%i", `${i}`));
    }
    dirs.push(`log${i}`);
  }
  return dirs;
}

/**
 * Run `command` with `input` on stdin (bytes, through a pipe): its exit code
 * and stderr. One that has not exited after 60 s is KILLed and the call fails.
 */
export async function runWith(
  command: string,
  args: string[],
  options: { cwd: string; input: Uint8Array | string },
): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const input = typeof options.input === "string"
    ? new TextEncoder().encode(options.input)
    : options.input;
  // A program that exits first (a usage error) fails these: its exit says what matters.
  await writer.write(input).catch(() => {});
  await writer.close().catch(() => {});
  const output = await within(child.output(), { timeout: 60_000, what: `${command} to exit` })
    .catch((error) => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited meanwhile.
      }
      throw error;
    });
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}
