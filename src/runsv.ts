/**
 * runsv(8): supervise one service directory and its optional log service.
 *
 * @module
 */

import { BoundedWriter, Children, Reactor } from "./reactor/mod.ts";
import { Supervisor, SupervisorFatal } from "./supervise/supervisor.ts";
import { catchSignal, encodeName, messageOf } from "./sys/mod.ts";
import { usage, writeErr } from "./cli/output.ts";
import { type AppletContext, USAGE, versionLine } from "./cli/program.ts";

/**
 * Run runsv with its command-line arguments; resolves with the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./runsv.ts";
 * const code = await main(["/etc/sv/web"], { program: "runsv", argv0: "runsv" });
 * ```
 */
export async function main(args: string[], context: AppletContext): Promise<number> {
  // runit's runsv has no options; -V shows the version, then the usage, as its siblings do.
  if (args[0] === "-V") writeErr(`${versionLine()}\n`);
  if (args.length !== 1 || args[0] === "-V") usage(context.argv0, { args: USAGE.runsv, code: 1 });
  // A descriptor handler that fails is reported as runit would, never as a stack trace.
  const reactor = new Reactor({
    onError: (error) => {
      const text = messageOf(error);
      stderr.write(encodeName(`runsv ${args[0]}: warning: ${text}\n`));
    },
  });
  const children = new Children();
  // A full stderr must not stop supervision: lines wait, or are dropped and counted.
  const stderr = new BoundedWriter(2, {
    reactor,
    dropped: (lines) => `runsv ${args[0]}: warning: ${lines} lines dropped\n`,
  });
  const supervisor = new Supervisor(args[0], {
    reactor,
    children,
    report: (line) => stderr.write(encodeName(`${line}\n`)),
  });
  try {
    supervisor.open();
  } catch (error) {
    if (!(error instanceof SupervisorFatal)) throw error;
    writeErr(`${error.message}\n`);
    return 111;
  }
  catchSignal("SIGTERM", () => supervisor.exit());
  reactor.run();
  await supervisor.exited;
  stderr.close();
  return 0;
}
