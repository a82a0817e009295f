/**
 * What a supervisor needs to know about a process it did not start: a
 * process named by a `supervise/status` that a crashed supervisor left, to
 * be adopted when it is still the same process (see supervise/adopt.ts).
 *
 * @module
 */

import { errno, libc } from "./libc.ts";
import {
  AT_FDCWD,
  closeFd,
  O,
  openAt,
  readFileAt,
  readLinkAt,
  setNonBlocking,
  statAt,
} from "./fs.ts";
import { SysError } from "./errno.ts";
import type { Timestamp } from "./clock.ts";

/** USER_HZ: the unit of /proc/PID/stat's start time, 100 on every Linux architecture. */
const CLOCK_TICKS = 100;
const decoder = new TextDecoder();

function bootTime(): number | undefined {
  const text = decoder.decode(readFileAt(AT_FDCWD, "/proc/stat", 1 << 16));
  const match = /^btime (\d+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * The real uid of process `pid` (`self` for this one), from
 * /proc/PID/status, or undefined when there is no such process.
 *
 * @example
 * ```ts
 * import { processUid } from "./procfs.ts";
 * processUid("self"); // this process's real uid
 * ```
 */
export function processUid(pid: number | "self"): number | undefined {
  try {
    const text = decoder.decode(readFileAt(AT_FDCWD, `/proc/${pid}/status`, 1 << 14));
    const match = /^Uid:\s+(\d+)/m.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When the live process `pid` started (wall clock, to the kernel's 10 ms
 * tick; the boot time it counts from is whole seconds, so it is exact to a
 * second), or undefined when there is no such process or it is a zombie.
 *
 * @example
 * ```ts
 * import { processStart } from "./procfs.ts";
 * processStart(Deno.pid)?.sec; // a little before now
 * ```
 */
export function processStart(pid: number): Timestamp | undefined {
  let text: string;
  try {
    text = decoder.decode(readFileAt(AT_FDCWD, `/proc/${pid}/stat`, 4096));
  } catch {
    return undefined;
  }
  // The name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (the state), so field 22 (starttime) is fields[19].
  if (fields[0] === "Z" || fields[0] === "X" || fields.length < 20) return undefined;
  const boot = bootTime();
  if (boot === undefined) return undefined;
  const ticks = Number(fields[19]);
  const sec = boot + Math.floor(ticks / CLOCK_TICKS);
  return { sec, nsec: (ticks % CLOCK_TICKS) * (1e9 / CLOCK_TICKS) };
}

/**
 * True when the working directory of process `pid` is the directory open as
 * `dirFd` (the same device and inode: names and their bytes play no part).
 *
 * @example
 * ```ts
 * import { processInDirectory } from "./procfs.ts";
 * import { AT_FDCWD, O, openAt } from "./fs.ts";
 * processInDirectory(Deno.pid, openAt(AT_FDCWD, ".", { flags: O.RDONLY | O.DIRECTORY })); // true
 * ```
 */
export function processInDirectory(pid: number, dirFd: number): boolean {
  try {
    const cwd = statAt(AT_FDCWD, `/proc/${pid}/cwd`);
    const dir = statAt(dirFd, "");
    return cwd !== undefined && dir !== undefined && cwd.dev === dir.dev && cwd.ino === dir.ino;
  } catch {
    return false;
  }
}

/**
 * The target of `/proc/PID/exe` (the program the process runs), undefined
 * when it cannot be read.
 *
 * @example
 * ```ts
 * import { processProgram } from "./procfs.ts";
 * processProgram(Deno.pid); // e.g. "/usr/bin/deno"
 * ```
 */
export function processProgram(pid: number): string | undefined {
  try {
    return readLinkAt(AT_FDCWD, `/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/**
 * pidfd_open(2): a descriptor (close-on-exec) that pins `pid` and becomes
 * readable when the process exits, whoever its parent is. Throws
 * {@link SysError} (ESRCH when it is gone).
 *
 * @example
 * ```ts
 * import { openPidFd } from "./procfs.ts";
 * import { closeFd } from "./fs.ts";
 * closeFd(openPidFd(Deno.pid));
 * ```
 */
export function openPidFd(pid: number): number {
  const fd = libc().pidfd_open(pid, 0);
  if (fd === -1) throw new SysError(`pidfd_open ${pid}`, errno());
  return fd;
}

/**
 * pidfd_send_signal(2): signal the process `pidFd` pins, never another one
 * that was given its pid since it ended. False when it failed (ESRCH: ended).
 *
 * @example
 * ```ts
 * import { openPidFd, signalPidFd } from "./procfs.ts";
 * signalPidFd(openPidFd(Deno.pid), 0); // true
 * ```
 */
export function signalPidFd(pidFd: number, signal: number): boolean {
  return libc().pidfd_send_signal(pidFd, signal, null, 0) === 0;
}

/**
 * Open again, as a new open file description, the file that process `pid`
 * has as descriptor `fd` (through `/proc/PID/fd/FD`): for a pipe, either end
 * can be had this way, as with a FIFO. Non-blocking while opening (a pipe's
 * write end fails with ENXIO when no reader is left), blocking after.
 *
 * @example
 * ```ts ignore
 * import { reopenFd } from "./procfs.ts";
 * import { O } from "./fs.ts";
 * const readEnd = reopenFd(1234, 1, O.RDONLY);
 * ```
 */
export function reopenFd(pid: number, fd: number, flags: number): number {
  const path = `/proc/${pid}/fd/${fd}`;
  const opened = openAt(AT_FDCWD, path, { flags: flags | O.NONBLOCK | O.CLOEXEC });
  try {
    setNonBlocking(opened, false);
  } catch (error) {
    closeFd(opened);
    throw error;
  }
  return opened;
}
