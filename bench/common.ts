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
    await Deno.writeTextFile(
      `${service}/run`,
      `#!/bin/sh\necho "tick $$"\nexec sleep ${seconds}\n`,
    );
    await Deno.chmod(`${service}/run`, 0o755);
    if (i % 5 === 1) {
      await Deno.writeTextFile(`${service}/finish`, "#!/bin/sh\nexit 0\n");
      await Deno.chmod(`${service}/finish`, 0o755);
    }
    if (i % 5 === 2) {
      await Deno.mkdir(`${service}/log/main`, { recursive: true });
      await Deno.writeTextFile(`${service}/log/run`, `#!/bin/sh\nexec ${svlogd} -tt ./main\n`);
      await Deno.chmod(`${service}/log/run`, 0o755);
    }
  }
}
