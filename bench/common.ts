/**
 * Helpers the benchmark scripts share (not a test module): reading /proc and
 * files that may be gone, timing, and the ratio column.
 *
 * @module
 */

/** The text of a file, "" when it cannot be read (a process gone meanwhile). */
export function read(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** The fields of /proc/PID/stat after the command name (state first), [] when gone. */
export function statFields(pid: number): string[] {
  const text = read(`/proc/${pid}/stat`);
  return text ? text.slice(text.lastIndexOf(")") + 2).split(" ") : [];
}

/** Resolve after `ms` milliseconds. */
export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Start a command with no standard input or output, on a plain system PATH. */
export function spawnQuiet(command: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
  }).spawn();
}

/** `ours / theirs` as the benches print it. */
export function ratio(ours: number, runit: number): string {
  return runit === 0 ? "n/a" : `${(ours / runit).toFixed(2)}x`;
}

/** The median of `values` (the upper one for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The pids whose parent is `parent`. */
export function childrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (Number.isInteger(pid) && Number(statFields(pid)[1]) === parent) found.push(pid);
  }
  return found;
}

/** Whether `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  const state = statFields(pid)[0];
  return state !== undefined && state !== "Z";
}
