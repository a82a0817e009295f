/**
 * The multicall entry point: choose the applet from argv[0] (or from the
 * first argument, as in `runit sv status web`) and run it. Nothing else.
 *
 * @module
 */

import { APPLETS } from "./src/cli/applets.ts";
import { MULTICALL, resolveInvocation } from "./src/cli/dispatch.ts";
import { Exit, writeErr, writeOut } from "./src/cli/output.ts";
import { invocationName } from "./src/sys/invocation.ts";

async function run(): Promise<number> {
  const invocation = resolveInvocation(invocationName(), Deno.args);
  if (invocation.kind === "list") {
    const lines = Object.entries(APPLETS).map(([name, { summary }]) =>
      `  ${name.padEnd(10)} ${summary}`
    );
    writeOut(`usage: ${MULTICALL} applet [arguments]\n\napplets:\n${lines.join("\n")}\n`);
    return 0;
  }
  if (invocation.kind === "unknown") {
    writeErr(`${MULTICALL}: fatal: unknown applet: ${invocation.name}\n`);
    return 100;
  }
  const applet = APPLETS[invocation.applet];
  const first = invocation.args[0];
  if (first === "-h" || first === "--help") {
    writeOut(`usage: ${invocation.program}${applet.usage}\n${applet.summary}\n`);
    return 0;
  }
  const main = await applet.load();
  return await main(invocation.args, { program: invocation.program, argv0: invocation.argv0 });
}

try {
  Deno.exit(await run());
} catch (error) {
  if (error instanceof Exit) Deno.exit(error.code);
  throw error;
}
