/**
 * Shared test fixtures: a sandbox that owns temp directories and processes
 * and stops them all (by pid) when disposed, the installed launcher, service
 * directory builders and deadline-based waiting.
 *
 * @module
 */

import { install } from "../scripts/install.ts";
import { Children, Reactor } from "../src/reactor/mod.ts";
import { ServiceTree, type ServiceTreeOptions } from "../src/runsvdir/tree.ts";
import { AT_FDCWD, readFd, readLinkAt } from "../src/sys/fs.ts";

const decoder = new TextDecoder();

/** Output of a finished command. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

let installedBin: Promise<string> | undefined;

/**
 * The bin directory of the launcher installed once per test run (under a
 * temp prefix that is removed when the test process ends).
 */
export function bin(): Promise<string> {
  installedBin ??= (async () => {
    const prefix = await Deno.makeTempDir({ prefix: "runit-install-" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(prefix, { recursive: true });
      } catch {
        // Already gone.
      }
    });
    // Readable by all, as a real prefix is: tests also run applets as nobody.
    await Deno.chmod(prefix, 0o755);
    await install(prefix);
    return `${prefix}/bin`;
  })();
  return installedBin;
}

/**
 * Wait until `condition` returns a truthy value, polling every `interval`
 * ms; throws with `what` when `timeout` ms pass first.
 */
export async function waitUntil<T>(
  condition: () => T | Promise<T>,
  options: { timeout?: number; interval?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeout ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${options.what ?? "condition"}` +
          (last ? `: ${last}` : ""),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.interval ?? 25));
  }
}

/** True while a pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** A process started by a test. */
export interface Started {
  pid: number;
  child: Deno.ChildProcess;
  /** Resolves with the exit code (and collected stderr when piped). */
  done: Promise<Output>;
}

/** A started process that is TERMed (then KILLed) on disposal, if still running. */
export type Guarded = Started & AsyncDisposable;

/**
 * Stop `started` when the scope that holds it ends, before the sandbox does:
 * TERM it (or the pid `options.term` names, e.g. a PID 1 behind `unshare`),
 * KILL it after 10 s. Waits for the process, not its output: Debian's
 * runsvdir leaves runsv processes holding stderr (the sandbox ends them).
 */
export function guard(started: Started, options: { term?: () => number } = {}): Guarded {
  let finished = false;
  started.child.status.finally(() => finished = true);
  return {
    ...started,
    async [Symbol.asyncDispose]() {
      if (finished) return;
      try {
        Deno.kill(options.term?.() || started.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      await within(started.child.status, { timeout: 10_000, what: `${started.pid} to end` })
        .catch(() => {
          try {
            started.child.kill("SIGKILL");
          } catch {
            // Exited meanwhile.
          }
        });
      await started.child.status;
    },
  };
}

/** Owns everything a test starts; `await using` stops it all. */
export class Sandbox implements AsyncDisposable {
  readonly dir: string;
  #processes: Started[] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A new sandbox with its own temp directory. */
  static async create(): Promise<Sandbox> {
    return new Sandbox(await Deno.realPath(await Deno.makeTempDir({ prefix: "runit-test-" })));
  }

  /** Start a long-running process; stdout is discarded, stderr collected. */
  start(
    command: string,
    args: string[],
    options: { cwd?: string; env?: Record<string, string>; stdout?: "piped" | "null" } = {},
  ): Started {
    const child = new Deno.Command(command, {
      args,
      cwd: options.cwd ?? this.dir,
      env: options.env,
      stdin: "null",
      stdout: options.stdout ?? "null",
      stderr: "piped",
    }).spawn();
    const done = (async () => {
      const [status, stderr, stdout] = await Promise.all([
        child.status,
        new Response(child.stderr).text(),
        options.stdout === "piped" ? new Response(child.stdout).text() : Promise.resolve(""),
      ]);
      return { code: status.code, stdout, stderr };
    })();
    const started = { pid: child.pid, child, done };
    this.#processes.push(started);
    return started;
  }

  /**
   * Run a command to completion. One that has not exited after `timeout` ms
   * (default 60 s) is KILLed and the call fails.
   */
  async run(
    command: string,
    args: string[],
    options: { cwd?: string; env?: Record<string, string>; stdin?: string; timeout?: number } = {},
  ): Promise<Output> {
    const child = new Deno.Command(command, {
      args,
      cwd: options.cwd ?? this.dir,
      env: options.env,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const timeout = options.timeout ?? 60_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited meanwhile.
      }
    }, timeout);
    let result: Deno.CommandOutput;
    try {
      result = await child.output();
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) throw new Error(`${command} ${args.join(" ")}: no exit within ${timeout} ms`);
    return {
      code: result.code,
      stdout: decoder.decode(result.stdout),
      stderr: decoder.decode(result.stderr),
    };
  }

  /**
   * Run a TypeScript program in a child Deno (for code that must own its
   * process: argv bytes, fd 2, signals). `permissions` default to FFI and files.
   */
  async runDeno(
    source: string,
    args: string[],
    options: { permissions?: string[] } = {},
  ): Promise<Output> {
    const script = `${this.dir}/child-${crypto.randomUUID()}.ts`;
    await Deno.writeTextFile(script, source);
    const permissions = options.permissions ?? ["--allow-read", "--allow-write", "--allow-ffi"];
    return await this.run(Deno.execPath(), ["run", ...permissions, script, ...args]);
  }

  /** Write an executable script. */
  async script(path: string, body: string): Promise<string> {
    const full = path.startsWith("/") ? path : `${this.dir}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, `#!/bin/sh\n${body}\n`);
    await Deno.chmod(full, 0o755);
    return full;
  }

  /** Create a service directory with `run` (and optional `log/run`, `finish`, `down`). */
  async service(
    name: string,
    parts: { run: string; log?: string; finish?: string; down?: boolean },
  ): Promise<string> {
    const dir = `${this.dir}/${name}`;
    await this.script(`${dir}/run`, parts.run);
    if (parts.log !== undefined) await this.script(`${dir}/log/run`, parts.log);
    if (parts.finish !== undefined) await this.script(`${dir}/finish`, parts.finish);
    if (parts.down) await Deno.writeTextFile(`${dir}/down`, "");
    return dir;
  }

  /**
   * Stop everything: TERM each started process (a supervisor takes its
   * services down), KILL what is left after a grace period, then KILL any
   * process still living in the sandbox directory, and remove it.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const { pid } of this.#processes) {
      if (alive(pid)) {
        try {
          Deno.kill(pid, "SIGTERM");
        } catch {
          // Already gone.
        }
      }
    }
    const deadline = Date.now() + 5000;
    while (this.#processes.some(({ pid }) => alive(pid)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const { pid } of this.#processes) {
      if (alive(pid)) Deno.kill(pid, "SIGKILL");
    }
    // Services may hold a supervisor's stderr open: end them before waiting
    // for its output to close. A failure here must not skip the rest.
    let leftovers: number[] = [];
    try {
      leftovers = processesUnder(this.dir);
    } catch (error) {
      console.error(`sandbox: cannot list processes: ${error}`);
    }
    for (const pid of leftovers) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await waitUntil(() => processesUnder(this.dir).length === 0, {
      timeout: 5000,
      what: "sandbox processes to end",
    }).catch(() => {});
    try {
      // Something outside the sandbox may still hold an output pipe open.
      await within(Promise.all(this.#processes.map(({ done }) => done.catch(() => {}))), {
        what: "the started processes' output to close",
      });
    } finally {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }
}

/** pids (other than ours) whose working directory is inside `dir`. */
export function processesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    try {
      // Through libc: Deno refuses a link whose target is not UTF-8.
      const cwd = readLinkAt(AT_FDCWD, `/proc/${pid}/cwd`) ?? "";
      if ((cwd === dir || cwd.startsWith(`${dir}/`)) && alive(pid)) found.push(pid);
    } catch {
      // Gone, or not ours to look at.
    }
  }
  return found;
}

/** Replace pids and seconds in sv output so that two runs can be compared. */
export function normalizeStatus(text: string): string {
  return text.replace(/\(pid \d+\)/g, "(pid N)").replace(/\d+s\b/g, "Ns");
}

/** Whether Debian's runit is installed (the interop oracle). */
export function hasDebianRunit(): boolean {
  try {
    Deno.statSync("/usr/bin/runsv");
    Deno.statSync("/usr/bin/sv");
    return true;
  } catch {
    return false;
  }
}

/** A file's text, or "" when it cannot be read (yet). */
export function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** The pid in `dir/supervise/pid`, 0 when none. */
export function pidOf(dir: string): number {
  return Number(readText(`${dir}/supervise/pid`).trim());
}

/**
 * A Deno.test that is reported as ignored, with the reason in its name, when
 * `skipReason` names one. The reason is computed now, at registration (a
 * function is called at once), so that a test that cannot run here is never
 * reported as "ok".
 */
export function testUnless(
  name: string,
  skipReason: string | undefined | (() => string | undefined),
  fn: () => Promise<void>,
): void {
  const reason = typeof skipReason === "function" ? skipReason() : skipReason;
  Deno.test({ name: reason ? `${name} (ignored: ${reason})` : name, ignore: !!reason, fn });
}

/**
 * A test that compares with Debian's runit (the oracle): reported as
 * ignored, with the reason, where it is not installed.
 */
export function debianTest(name: string, fn: () => Promise<void>): void {
  testUnless(name, hasDebianRunit() ? undefined : "Debian's runit is not installed", fn);
}

/** Where `name` is on PATH, if anywhere. */
export function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Whether `path` exists (checked synchronously, for `ignore:` at registration). */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether this process may mount and make namespaces: root with
 * CAP_SYS_ADMIN in its effective set (a container's root may lack it).
 */
export function hasSysAdmin(): boolean {
  if (Deno.uid() !== 0) return false;
  const match = /^CapEff:\s+([0-9a-f]+)$/m.exec(readText("/proc/self/status"));
  return match !== null && (BigInt(`0x${match[1]}`) & (1n << 21n)) !== 0n;
}

/** `promise`, or a rejection naming `what` once `timeout` ms pass first. */
export async function within<T>(
  promise: Promise<T>,
  options: { timeout?: number; what?: string } = {},
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${options.what ?? "a promise"}`)),
      options.timeout ?? 10_000,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A stream read to its end in the background. */
export interface Collected {
  /** The text that has arrived so far. */
  text(): string;
  /** Whether the stream has ended. */
  ended(): boolean;
  /** Resolves with the whole text once the stream ends. */
  done: Promise<string>;
}

/**
 * Read `stream` in the background, so that a test can wait (with a
 * deadline: {@link waitUntil}) for what it should say, instead of looping on
 * reads that may never come.
 */
export function collect(stream: ReadableStream<Uint8Array>): Collected {
  let text = "";
  let ended = false;
  const done = (async () => {
    const streamDecoder = new TextDecoder();
    try {
      for await (const chunk of stream) text += streamDecoder.decode(chunk, { stream: true });
    } finally {
      ended = true;
    }
    return text;
  })();
  return { text: () => text, ended: () => ended, done };
}

/**
 * Wait until `dir`'s supervisor reports its process running, and return the
 * pid. `not`: a pid to see replaced; `namespaced`: the pid lives in another
 * PID namespace, so it cannot be checked from here.
 */
export async function waitRunning(
  dir: string,
  options: { not?: number; timeout?: number; namespaced?: boolean } = {},
): Promise<number> {
  return await waitUntil(() => {
    const pid = pidOf(dir);
    const running = pid > 0 && pid !== options.not &&
      /^run\b/.test(readText(`${dir}/supervise/stat`));
    return running && (options.namespaced || alive(pid)) ? pid : 0;
  }, { what: `${dir} to run`, timeout: options.timeout });
}

/**
 * Run a {@link ServiceTree} over `dir` in this process (retries every 100 ms),
 * hand it and its report lines to `body`, then stop and close everything
 * (`options.reactor` too: a test's own, e.g. one that injects faults).
 */
export async function withTree(
  dir: string,
  body: (tree: ServiceTree, reports: string[]) => Promise<void>,
  options: Pick<ServiceTreeOptions, "rescanMs" | "settleMs" | "settleMaxMs"> & {
    reactor?: Reactor;
  } = {},
): Promise<void> {
  const { reactor = new Reactor(), ...treeOptions } = options;
  const children = new Children();
  const reports: string[] = [];
  const tree = new ServiceTree(dir, {
    reactor,
    children,
    report: (line) => reports.push(line),
    retryMs: 100,
    ...treeOptions,
  });
  const running = reactor.run();
  try {
    tree.start();
    await body(tree, reports);
  } finally {
    await tree.stop({ timeoutMs: 2000 });
    children.close();
    reactor.stop();
    await running;
    reactor.close();
  }
}

/** Read the non-blocking `fd` (a pipe's read end) to end of file, within a deadline. */
export async function readAll(fd: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(4096);
  await waitUntil(() => {
    for (;;) {
      const n = readFd(fd, buffer);
      if (n <= 0) return n === 0;
      chunks.push(buffer.slice(0, n));
    }
  }, { what: `end of file on descriptor ${fd}`, interval: 5 });
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}
