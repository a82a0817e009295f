/**
 * The process table for tests: who is whose child, in what state, and
 * /proc/PID files read through `cat` (independent of Deno's /proc rules).
 *
 * @module
 */

import type { Sandbox } from "./helpers.ts";
import { AT_FDCWD, closeFd, EPOLL, Epoll, O, openAt } from "../src/sys/mod.ts";

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
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** The session id of `pid` (field 6 of /proc/PID/stat); NaN when it is gone. */
export function sessionOf(pid: number): number {
  const stat = readProc(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
}

/** Whether `pid` is a log placeholder (a hosted svlogd), by its executable. */
export function isPlaceholder(pid: number): boolean {
  try {
    return Deno.readLinkSync(`/proc/${pid}/exe`).includes("runit-log-placeholder");
  } catch {
    return false;
  }
}

/** Every process, from `ps -e` (one consistent snapshot). */
async function processTable(): Promise<ProcessRow[]> {
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

/** The text of /proc/PID/FILE, or undefined when the process is gone. */
export async function procFile(
  sb: Sandbox,
  pid: number,
  file: string,
): Promise<string | undefined> {
  const { code, stdout } = await sb.run("cat", [`/proc/${pid}/${file}`]);
  return code === 0 ? stdout : undefined;
}

/** True while `pid` exists and is not a zombie. */
export async function running(sb: Sandbox, pid: number): Promise<boolean> {
  const stat = await procFile(sb, pid, "stat");
  return stat !== undefined && stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

/** System call numbers this module recognises, by architecture. */
const SYSCALLS: Record<string, Record<string, number>> = {
  x86_64: { flock: 73 },
  aarch64: { flock: 32 },
};

/**
 * True when some thread of `pid` is blocked in the system call `name` (from
 * /proc/PID/task/TID/syscall), e.g. waiting for a lock.
 */
export function blockedIn(pid: number, name: "flock"): boolean {
  const number = SYSCALLS[Deno.build.arch]?.[name];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const syscall = readProc(`/proc/${pid}/task/${task.name}/syscall`).split(" ")[0];
      if (Number(syscall) === number) return true;
    }
  } catch {
    // The process is gone.
  }
  return false;
}

/**
 * Whether the pipe or FIFO that `pid` reads as descriptor `fd` holds bytes
 * it has not read yet: a second read end, opened through /proc, is polled
 * without reading from it.
 */
export async function hasUnread(pid: number, fd: number): Promise<boolean> {
  const reader = openAt(AT_FDCWD, `/proc/${pid}/fd/${fd}`, {
    flags: O.RDONLY | O.NONBLOCK | O.CLOEXEC,
  });
  const epoll = new Epoll(1);
  try {
    epoll.add(reader, EPOLL.IN);
    return (await epoll.wait(0)).some((event) => (event.events & EPOLL.IN) !== 0);
  } finally {
    closeFd(epoll.fd);
    closeFd(reader);
  }
}
