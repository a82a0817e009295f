/**
 * `deno task demo`: a small service tree in a temp directory, supervised by
 * this project's runit, with `sv status` printed every few seconds until
 * Ctrl-C (or `--seconds N`), then everything is stopped and removed.
 *
 * @module
 */

import { APPLETS } from "../src/cli/applets.ts";
import { install } from "./install.ts";

const decoder = new TextDecoder();

async function script(path: string, body: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
}

/**
 * Build the demo tree under `root`: `clock` (prints the time every second,
 * logged by a logger) and `worker` (a quiet long-running process).
 *
 * @example
 * ```ts
 * import { buildTree } from "./demo.ts";
 * const services = await buildTree(await Deno.makeTempDir(), {});
 * ```
 */
export async function buildTree(root: string, options: { bin?: string } = {}): Promise<string> {
  const services = `${root}/service`;
  await script(`${services}/clock/run`, "exec 2>&1\nwhile :; do date; sleep 1; done");
  const logger = options.bin && "svlogd" in APPLETS
    ? `exec ${options.bin}/svlogd -tt ./main`
    : "exec cat >> ./main/current";
  await Deno.mkdir(`${services}/clock/log/main`, { recursive: true });
  await script(`${services}/clock/log/run`, logger);
  await script(`${services}/worker/run`, "exec sleep 100000");
  return services;
}

async function sv(bin: string, services: string): Promise<string> {
  const names = [...Deno.readDirSync(services)].map((entry) => entry.name).sort();
  const result = await new Deno.Command(`${bin}/sv`, {
    args: ["status", ...names],
    env: { SVDIR: services },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return decoder.decode(result.stdout) + decoder.decode(result.stderr);
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--seconds");
  const seconds = at >= 0 ? Number(Deno.args[at + 1]) : Infinity;
  const root = await Deno.makeTempDir({ prefix: "runit-demo-" });
  const bin = (await install(`${root}/prefix`)).replace(/\/runit$/, "");
  const services = await buildTree(root, { bin });
  const supervisors: Deno.ChildProcess[] = [];
  if ("runsvdir" in APPLETS) {
    console.log(`$ runsvdir -P ${services}`);
    supervisors.push(
      new Deno.Command(`${bin}/runsvdir`, { args: ["-P", services], stdin: "null" }).spawn(),
    );
  } else {
    for (const name of [...Deno.readDirSync(services)].map((entry) => entry.name)) {
      console.log(`$ runsv ${services}/${name} &`);
      supervisors.push(
        new Deno.Command(`${bin}/runsv`, { args: [`${services}/${name}`], stdin: "null" })
          .spawn(),
      );
    }
  }
  let stopping = false;
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", () => stop());
  Deno.addSignalListener("SIGTERM", () => stop());
  const deadline = Date.now() + seconds * 1000;
  const report = async () => {
    console.log(`\n$ SVDIR=${services} sv status clock worker`);
    console.log((await sv(bin, services)).trimEnd());
  };
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await report();
  console.log("(Ctrl-C stops the demo)");
  while (!stopping) {
    const wait = Math.min(5000, deadline - Date.now());
    if (wait <= 0) break;
    const timer = new Promise((resolve) => setTimeout(resolve, wait));
    stopping = await Promise.race([stopped.then(() => true), timer.then(() => false)]);
    if (!stopping && Date.now() < deadline) await report();
  }
  console.log("\nstopping: TERM to each supervisor (each takes its services down)");
  for (const child of supervisors) {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
  }
  const codes = await Promise.all(supervisors.map(async (child) => (await child.status).code));
  const logged = await Deno.readTextFile(`${services}/clock/log/main/current`).catch(() => "");
  console.log(
    `supervisors exited ${codes.join(", ")}; clock logged ${logged.split("\n").length - 1} lines`,
  );
  await Deno.remove(root, { recursive: true });
  Deno.exit(0);
}
