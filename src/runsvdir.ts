/**
 * runsvdir(8): supervise every service directory of a directory, all in this
 * one process (one {@link Supervisor} per service, the code `runsv DIR` runs),
 * with the same `supervise/` files a runsv per service would keep.
 *
 * Differences from runit, on purpose: TERM (and INT, unless our parent
 * ignored it) take every service and log service down gracefully, KILL
 * what is left after RUNSVDIR_TIMEOUT seconds (default 7), and exit 0 when
 * nothing had to be killed, 1 otherwise; HUP does the same and exits 111. (runit's runsvdir exits at once on TERM
 * and leaves its runsv processes running; here the supervisors live in this
 * process, so leaving would leave the services unsupervised.) As process 1
 * (in a container) it also reaps every orphan.
 *
 * @module
 */

import { BoundedWriter, Children, Reactor } from "./reactor/mod.ts";
import type { LogArgument } from "./runsvdir/log_argument.ts";
import type { StderrTap } from "./runsvdir/stderr_tap.ts";
import { ServiceTree } from "./runsvdir/tree.ts";
import {
  catchSignal,
  encodeName,
  inheritedIgnores,
  messageOf,
  SIG,
  uncatchSignal,
} from "./sys/mod.ts";
import { usage, writeErr } from "./cli/output.ts";
import { type AppletContext, USAGE, versionLine } from "./cli/program.ts";

const encoder = new TextEncoder();
const DEFAULT_TIMEOUT_S = 7;

/** What ended runsvdir. */
type Ending = "term" | "hup";

/**
 * Run runsvdir with its command-line arguments; resolves with the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./runsvdir.ts";
 * const code = await main(["-P", "/etc/service"], { program: "runsvdir", argv0: "runsvdir" });
 * ```
 */
export async function main(args: string[], context: AppletContext): Promise<number> {
  if (args[0] === "-V") {
    writeErr(`${versionLine()}\n`);
    usage(context.argv0, { args: USAGE.runsvdir, code: 1 });
  }
  let at = 0;
  let newSession = false;
  // runit looks at the first argument only: -P (or --) is skipped, anything else is the dir.
  if (args[0]?.startsWith("-")) {
    if (args[0][1] === "P") newSession = true;
    if (args[0][1] === "P" || args[0][1] === "-") at++;
  }
  const dir = args[at];
  if (dir === undefined) usage(context.argv0, { args: USAGE.runsvdir, code: 1 });
  // A descriptor handler that fails is reported as runit would, never as a stack trace.
  const reactor = new Reactor({ onError: (error) => warn(messageOf(error)) });
  const children = new Children();
  // Never blocked by a stderr nobody reads: that would stop every service's supervision.
  const dropped = (lines: number) => `runsvdir ${dir}: warning: ${lines} lines dropped\n`;
  const stderr = new BoundedWriter(2, { reactor, dropped });
  // encodeName: a service name that is not UTF-8 is printed as its bytes, as runit does.
  let emit = (text: string) => stderr.write(encodeName(text));
  const warn = (message: string) => emit(`runsvdir ${dir}: warning: ${message}\n`);
  let log: LogArgument | undefined;
  let tap: StderrTap | undefined;
  let fade: ReturnType<typeof setTimeout> | undefined;
  if (at + 1 < args.length) {
    // Only the log argument needs these: loaded on that path alone.
    const [{ LOG_FADE_MS, LogArgument, MIN_LOG_LENGTH }, { StderrTap }] = await Promise.all([
      import("./runsvdir/log_argument.ts"),
      import("./runsvdir/stderr_tap.ts"),
    ]);
    const index = at + 1;
    if (encoder.encode(args[index]).length < MIN_LOG_LENGTH) {
      warn("log must have at least seven characters.");
    } else {
      log = LogArgument.open(args, index);
      if (!log) warn("unable to write the log argument.");
    }
    if (log) {
      const shown = log;
      tap = StderrTap.install(reactor, (bytes) => shown.append(bytes), { dropped });
      const direct = tap;
      emit = (text) => direct.write(encodeName(text));
      fade = setInterval(() => shown.fade(), LOG_FADE_MS);
    } else {
      warn("log service disabled.");
    }
  }
  const timeoutMs = stopTimeout(warn);
  const tree = new ServiceTree(dir, {
    reactor,
    children,
    newSession,
    report: (line) => emit(`${line}\n`),
  });
  const { promise: ended, resolve: end } = Promise.withResolvers<Ending>();
  const signals: Array<[Deno.Signal, () => void]> = [
    ["SIGTERM", () => end("term")],
    ["SIGHUP", () => end("hup")],
  ];
  // INT is ours, not runit's: left alone when our parent ignored it, so
  // that the services inherit the ignore as runit's would.
  if (!inheritedIgnores().includes(SIG.INT)) signals.push(["SIGINT", () => end("term")]);
  for (const [signal, handler] of signals) catchSignal(signal, handler);
  const running = reactor.run();
  tree.start();
  const ending = await ended;
  const clean = await tree.stop({ timeoutMs });
  for (const [signal, handler] of signals) uncatchSignal(signal, handler);
  clearInterval(fade);
  tap?.close();
  stderr.close();
  log?.close();
  children.close();
  reactor.stop();
  await running;
  reactor.close();
  if (ending === "hup") return 111;
  return clean ? 0 : 1;
}

/** RUNSVDIR_TIMEOUT (seconds, may be fractional) or the default, in ms. */
function stopTimeout(warn: (message: string) => void): number {
  const text = Deno.env.get("RUNSVDIR_TIMEOUT");
  if (text === undefined || text === "") return DEFAULT_TIMEOUT_S * 1000;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  warn(`invalid RUNSVDIR_TIMEOUT: ${text}, using ${DEFAULT_TIMEOUT_S}`);
  return DEFAULT_TIMEOUT_S * 1000;
}
