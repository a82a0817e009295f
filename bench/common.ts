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

/**
 * The numeric fields of a /proc file of `Name:  N [kB]` lines (status,
 * smaps_rollup), read once: `field(name)` is N, 0 when the file (a process
 * gone) or the field is missing.
 */
export function procFields(path: string): (name: string) => number {
  const text = read(path);
  return (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
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

/**
 * Poll `condition` every `intervalMs` (default 5) until it holds; throws
 * "timed out waiting for WHAT" after `timeoutMs` (default 30 s).
 */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(options.intervalMs ?? 5);
  }
}

/** Write `path` as a `#!/bin/sh` script of `body`, mode 0755, making its directory. */
export async function writeScript(path: string, body: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
}

/**
 * Start a command with no standard input or output, on a plain system PATH
 * (plus `options.env`).
 */
export function spawnQuiet(
  command: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Deno.ChildProcess {
  return new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...options.env },
  }).spawn();
}

/** The pid in `dir/supervise/pid`, 0 when none (down, or not yet written). */
export function supervisedPid(dir: string): number {
  return Number(read(`${dir}/supervise/pid`).trim()) || 0;
}

/** Whether `dir/supervise/stat` says the service runs. */
export function isRunning(dir: string): boolean {
  return read(`${dir}/supervise/stat`).startsWith("run");
}

/** `ours / theirs` as the benches print it. */
export function ratio(ours: number, runit: number): string {
  return runit === 0 ? "n/a" : `${(ours / runit).toFixed(2)}x`;
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Least-squares slope of `values` against `xs` (0 for fewer than two distinct xs). */
export function slope(xs: number[], values: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (values[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * The pids whose parent is `parent`: the children lists of its threads (a
 * Deno process may fork from any of them), cheap enough to sample often.
 */
export function childrenOf(parent: number): number[] {
  const found: number[] = [];
  let threads: Deno.DirEntry[];
  try {
    threads = [...Deno.readDirSync(`/proc/${parent}/task`)];
  } catch {
    return found; // Gone.
  }
  for (const thread of threads) {
    const text = read(`/proc/${parent}/task/${thread.name}/children`);
    for (const word of text.split(" ")) if (word.trim()) found.push(Number(word));
  }
  return found;
}

/** Whether `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  const state = statFields(pid)[0];
  return state !== undefined && state !== "Z";
}

/**
 * Every process whose working directory is under `root` (supervisors,
 * services and loggers of a tree).
 */
export function processesUnder(root: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    try {
      if (Deno.readLinkSync(`/proc/${pid}/cwd`).startsWith(`${root}/`)) pids.push(pid);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

/**
 * Wait up to `waitMs` for every process whose working directory is under
 * `root` to end, then KILL those left (services a supervisor left behind).
 */
export async function killLeftUnder(root: string, options: { waitMs: number }): Promise<void> {
  const left = () => processesUnder(root);
  const deadline = Date.now() + options.waitMs;
  while (left().length > 0 && Date.now() < deadline) await sleep(100);
  for (const pid of left()) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone.
    }
  }
}

/** Services in a soak tree. */
export const SOAK_SERVICES = 50;

/**
 * The soak's service tree in `dir`: {@link SOAK_SERVICES} services, each
 * exiting after 0.2-0.5 s (runsv's one-second pause then paces the restarts),
 * every fifth with a `./finish`, every fifth with a logger (`svlogd -tt
 * ./main`, `svlogd` being the given program).
 */
export async function makeSoakTree(dir: string, svlogd: string): Promise<void> {
  for (let i = 0; i < SOAK_SERVICES; i++) {
    const service = `${dir}/s${i}`;
    await Deno.mkdir(service, { recursive: true });
    const seconds = (0.2 + 0.3 * (i / (SOAK_SERVICES - 1))).toFixed(2);
    await writeScript(`${service}/run`, `echo "tick $$"\nexec sleep ${seconds}`);
    if (i % 5 === 1) await writeScript(`${service}/finish`, "exit 0");
    if (i % 5 === 2) {
      await Deno.mkdir(`${service}/log/main`, { recursive: true });
      await writeScript(`${service}/log/run`, `exec ${svlogd} -tt ./main`);
    }
  }
}
