/**
 * Process inspection for tests that must also pass under `deno task test`:
 * Deno 2.9 refuses /proc to anything short of --allow-all, so single files
 * are read through the libc layer and the process table comes from ps(1).
 *
 * @module
 */

import { AT_FDCWD, readFileAt } from "../src/sys/mod.ts";

const decoder = new TextDecoder();

/** One row of the process table. */
export interface ProcessRow {
  pid: number;
  ppid: number;
  /** ps's STAT letter: R, S, D, Z, ... */
  state: string;
  /** The command name (comm). */
  name: string;
}

/** Read a /proc file; "" when it is gone. */
export function readProc(path: string): string {
  try {
    return decoder.decode(readFileAt(AT_FDCWD, path, 1 << 16));
  } catch {
    return "";
  }
}

/** True while `pid` exists and is not a zombie. */
export function running(pid: number): boolean {
  const stat = readProc(`/proc/${pid}/stat`);
  return stat !== "" && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

/** Every process, from `ps -e`. */
export async function processTable(): Promise<ProcessRow[]> {
  const output = await new Deno.Command("ps", {
    args: ["-e", "-o", "pid=,ppid=,stat=,comm="],
    stdout: "piped",
    stderr: "null",
  }).output();
  return decoder.decode(output.stdout).split("\n").flatMap((line) => {
    const match = /^\s*(\d+)\s+(\d+)\s+(\S)\S*\s+(.*)$/.exec(line);
    return match
      ? [{ pid: Number(match[1]), ppid: Number(match[2]), state: match[3], name: match[4] }]
      : [];
  });
}

/** The children of `parent`. */
export async function childrenOf(parent: number): Promise<ProcessRow[]> {
  return (await processTable()).filter((row) => row.ppid === parent);
}
