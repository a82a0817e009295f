/**
 * svlogd(8): read log lines from standard input and write them to one or
 * more automatically rotated log directories.
 *
 * @module
 */

import { getopt } from "./cli/getopt.ts";
import { usage, writeErr } from "./cli/output.ts";
import { scanUlong } from "./cli/scan.ts";
import { type AppletContext, USAGE, versionLine } from "./cli/program.ts";
import { runDaemon, type StampKind } from "./svlog/mod.ts";

const encoder = new TextEncoder();

/**
 * Run svlogd with its command-line arguments; resolves with the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./svlogd.ts";
 * const code = await main(["-tt", "./log"], { program: "svlogd", argv0: "svlogd" });
 * ```
 */
export async function main(args: string[], context: AppletContext): Promise<number> {
  const program = context.argv0;
  const parsed = getopt(args, "R:r:l:b:tvV", { program });
  if (!parsed.ok) usage(program, { args: USAGE.svlogd, code: 111 });
  let stamp = 0;
  let verbose = false;
  let lineMax = 1000;
  let bufferSize = 1024;
  let replaceChar = 0;
  let replaceSet = "";
  for (const option of parsed.options) {
    const value = option.value ?? "";
    switch (option.name) {
      case "R":
        replaceSet = value;
        if (replaceChar === 0) replaceChar = 0x5f;
        break;
      case "r": {
        const bytes = encoder.encode(value);
        if (bytes.length !== 1) usage(program, { args: USAGE.svlogd, code: 111 });
        replaceChar = bytes[0];
        break;
      }
      case "l":
        lineMax = Number(scanUlong(value).value) || 1000;
        break;
      case "b":
        bufferSize = Number(scanUlong(value).value) || 1024;
        break;
      case "t":
        stamp = Math.min(stamp + 1, 3);
        break;
      case "v":
        verbose = true;
        break;
      case "V":
        writeErr(`${versionLine()}\n`);
        usage(program, { args: USAGE.svlogd, code: 111 });
    }
  }
  if (parsed.operands.length === 0) usage(program, { args: USAGE.svlogd, code: 111 });
  if (bufferSize <= lineMax) usage(program, { args: USAGE.svlogd, code: 111 });
  return await runDaemon(parsed.operands, {
    stamp: stamp as StampKind,
    lineMax,
    bufferSize,
    replaceChar,
    replaceSet: encoder.encode(replaceSet),
    verbose,
    argv: [program, ...args],
    write: writeErr,
    // A closed stderr must not stop the logging (runit ignores it too): writeErr ignores it.
    stderr: writeErr,
  });
}
