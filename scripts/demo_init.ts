/**
 * `deno task demo:init`: boot this project's runit as process 1 of a new PID
 * and mount namespace (root and util-linux's unshare needed), with a small
 * stage layout bound over /etc/runit there: stage 2 runs runsvdir with one
 * service, `sv status` shows it, then `runit-init 0` halts it cleanly. The
 * real /etc/runit and the real process 1 are never touched.
 *
 * @module
 */

import { install } from "./install.ts";
import { AT_FDCWD, readFileAt } from "../src/sys/fs.ts";

const decoder = new TextDecoder();
/** Present in the stage directory: the proof that the bind mount took before runit starts. */
export const MARKER = ".runit-demo-stages";

/**
 * unshare(1) with a new PID namespace (its first child is process 1 there,
 * with its own /proc) and mount namespace; `--kill-child`: when unshare dies,
 * the whole namespace does. The command to run follows.
 *
 * @example
 * ```ts
 * import { UNSHARE } from "./demo_init.ts";
 * [...UNSHARE, "sh", "-c", "echo $$"]; // prints 1
 * ```
 */
export const UNSHARE = [
  "unshare",
  "--pid",
  "--fork",
  "--mount-proc",
  "--mount",
  "--kill-child",
] as const;

/**
 * The command that boots `program` as process 1 in a new PID and mount
 * namespace, with `dir/etc` bound over /etc/runit, the FIFO `dir/console`
 * over /dev/console and, when it exists, `dir/run` over /run. It refuses to
 * start `program` unless the bind took (`dir/etc` holds {@link MARKER}).
 * `--kill-child`: when unshare dies, the whole namespace does.
 *
 * @example
 * ```ts
 * import { namespaceCommand } from "./demo_init.ts";
 * namespaceCommand("/tmp/x", ["/opt/runit/bin/runit-init"])[0]; // "unshare"
 * ```
 */
export function namespaceCommand(dir: string, program: readonly string[]): string[] {
  const script = [
    "set -e",
    'mount --bind "$0/etc" /etc/runit',
    'mount --bind "$0/console" /dev/console',
    'if [ -d "$0/run" ]; then mount --bind "$0/run" /run; fi',
    `test -e /etc/runit/${MARKER}`,
    'exec "$@"',
  ].join("\n");
  return [...UNSHARE, "sh", "-c", script, dir, ...program];
}

async function script(path: string, body: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
}

/**
 * Write the demo's stage layout under `dir`: `etc/1`, `etc/2` (runsvdir of
 * `dir/service`), `etc/3`, and one service, `hello`.
 *
 * @example
 * ```ts
 * import { buildStages } from "./demo_init.ts";
 * await buildStages(await Deno.makeTempDir(), { bin: "/opt/runit/bin" });
 * ```
 */
export async function buildStages(dir: string, options: { bin: string }): Promise<void> {
  await Deno.mkdir(`${dir}/etc`, { recursive: true });
  await Deno.writeTextFile(`${dir}/etc/${MARKER}`, "");
  await script(`${dir}/etc/1`, "echo 'stage 1: one-time tasks (mounts, hostname) go here'");
  await script(`${dir}/etc/2`, `exec ${options.bin}/runsvdir -P ${dir}/service`);
  await script(`${dir}/etc/3`, `echo 'stage 3: services are down; sync, then halt'`);
  await script(
    `${dir}/service/hello/run`,
    "echo 'hello: up'\nexec sleep 100000",
  );
  await script(`${dir}/service/hello/finish`, "echo 'hello: finished'");
}

/**
 * The children of `pid` (pids as seen here), read through libc: Deno wants
 * --allow-all for /proc/PID files, which the demo task does not grant.
 */
function childrenOf(pid: number): number[] {
  try {
    const text = decoder.decode(readFileAt(AT_FDCWD, `/proc/${pid}/task/${pid}/children`, 65536));
    return text.split(" ").filter((word) => word.trim()).map(Number);
  } catch {
    return [];
  }
}

/** The pid (here) of the first child of `pid`, once it has one. */
async function firstChild(pid: number): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const [first] = childrenOf(pid);
    if (first) return first;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no child of ${pid} appeared`);
}

async function run(command: string, args: string[], env?: Record<string, string>) {
  const result = await new Deno.Command(command, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  return decoder.decode(result.stdout) + decoder.decode(result.stderr);
}

/** Boot, show, halt; resolves with the exit code. */
async function demo(root: string): Promise<number> {
  const bin = (await install(`${root}/prefix`)).replace(/\/runit$/, "");
  await buildStages(root, { bin });
  await run("mkfifo", [`${root}/console`]);
  // The console: read here (opened read-write, so it never sees end of file).
  const console_ = await Deno.open(`${root}/console`, { read: true, write: true });
  const lines: string[] = [];
  let pending = "";
  const reading = (async () => {
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await console_.read(buffer).catch(() => null);
      if (n === null) return;
      pending += decoder.decode(buffer.subarray(0, n));
      for (let at = pending.indexOf("\n"); at >= 0; at = pending.indexOf("\n")) {
        lines.push(pending.slice(0, at));
        console.log(`console| ${pending.slice(0, at)}`);
        pending = pending.slice(at + 1);
      }
    }
  })();
  const [command, ...args] = namespaceCommand(root, [`${bin}/runit-init`]);
  console.log(`$ unshare --pid --fork --mount-proc --mount … ${bin}/runit-init`);
  const namespace = new Deno.Command(command, { args, stdin: "null" }).spawn();
  try {
    const init = await Promise.race([
      firstChild(namespace.pid),
      namespace.status.then(() => {
        throw new Error("unshare ended at once: root is needed (namespaces, mount --bind)");
      }),
    ]);
    const up = Date.now() + 20_000;
    while (!lines.includes("hello: up") && Date.now() < up) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    console.log(`\n$ SVDIR=${root}/service sv status hello`);
    console.log((await run(`${bin}/sv`, ["status", "hello"], { SVDIR: `${root}/service` })).trim());
    console.log(`\n$ nsenter -t ${init} -p -m runit-init 0`);
    console.log(await run("nsenter", ["-t", `${init}`, "-p", "-m", `${bin}/runit-init`, "0"]));
    const status = await namespace.status;
    const by = status.signal ? `by ${status.signal}` : `with exit code ${status.code}`;
    console.log(`process 1 of the namespace ended ${by} (halt: SIGINT, reboot: SIGHUP)`);
    return status.signal === "SIGINT" ? 0 : 1;
  } finally {
    try {
      namespace.kill("SIGKILL");
    } catch {
      // Already ended.
    }
    await namespace.status;
    console_.close();
    await reading;
  }
}

if (import.meta.main) {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "runit-demo-init-" }));
  let code = 1;
  try {
    code = await demo(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  Deno.exit(code);
}
