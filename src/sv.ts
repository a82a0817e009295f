/**
 * sv(8): report and control services supervised by runsv, also as an LSB
 * init script when called by another name (`/etc/init.d/web status`).
 *
 * Output lines and exit codes are runit's; so is the order in which things
 * are checked, which decides what a user sees when several things are wrong.
 *
 * Beyond runit, loaded only when used: `--json` for `status` and `check`
 * (src/sv_json.ts) and the `logs` command (src/sv_logs.ts).
 *
 * @module
 */

import { getopt } from "./cli/getopt.ts";
import { Exit, usage, writeErr, writeOut } from "./cli/output.ts";
import { scanUlong } from "./cli/scan.ts";
import { type AppletContext, USAGE, versionLine } from "./cli/program.ts";
import { now } from "./sys/clock.ts";
import { Errno, errnoOf, errorText } from "./sys/errno.ts";
import { closeFd } from "./sys/fs.ts";
import {
  isNormallyUp,
  openServiceDir,
  type Probe,
  probeStatus,
  sendControl,
} from "./supervise/client.ts";
import {
  commandProgress,
  needsSending,
  type Plan,
  planCommand,
  ReadyWait,
  runCheckScript,
  waitLoop,
} from "./supervise/command.ts";
import { readReadiness } from "./supervise/info.ts";
import type { ServiceStatus } from "./supervise/status.ts";

/** The services directory when SVDIR is not set (upstream runit's default). */
export const DEFAULT_SVDIR = "/service/";

/**
 * How sv resolves a service name: names that start with `.` or `/`, or end
 * with `/`, are paths; any other is looked up in the services directory.
 *
 * @example
 * ```ts
 * import { servicePath } from "./sv.ts";
 * servicePath("web", "/etc/service"); // "/etc/service/web"
 * servicePath("./web", "/etc/service"); // "./web"
 * servicePath("web/", "/etc/service"); // "web/"
 * ```
 */
export function servicePath(name: string, svdir: string): string {
  if (name === "" || name.startsWith("/") || name.startsWith(".") || name.endsWith("/")) {
    return name;
  }
  return `${svdir.replace(/\/+$/, "")}/${name}`;
}

/**
 * Format one status the way sv prints it, e.g.
 * `run: web: (pid 123) 5s, normally down`. Returns the text and whether a
 * process runs (sv's 1) or not (2). `ready` is given only for a service that
 * declares readiness: while `./run` runs, `, ready` or `, not ready` then
 * follows the uptime (runit's output for every other service is unchanged).
 *
 * @example
 * ```ts
 * import { formatStatus } from "./sv.ts";
 * formatStatus("web", {
 *   sec: 100, nsec: 0, pid: 7, paused: false, want: "up", gotTerm: false, state: "run",
 * }, { now: 105, normallyUp: true }).text; // "run: web: (pid 7) 5s"
 * ```
 */
export function formatStatus(
  name: string,
  status: ServiceStatus,
  options: { now: number; normallyUp: boolean; ready?: boolean },
): { text: string; running: boolean } {
  const { pid } = status;
  let text = `${status.state}: ${name}: `;
  if (status.state !== "down") text += `(pid ${pid}) `;
  text += `${Math.max(0, options.now - status.sec)}s`;
  if (options.ready !== undefined && pid && status.state === "run") {
    text += options.ready ? ", ready" : ", not ready";
  }
  if (pid && !options.normallyUp) text += ", normally down";
  if (!pid && options.normallyUp) text += ", normally up";
  if (pid && status.paused) text += ", paused";
  if (!pid && status.want === "up") text += ", want up";
  if (pid && status.want === "down") text += ", want down";
  if (pid && status.gotTerm) text += ", got TERM";
  return { text, running: pid !== 0 };
}

/** The `--json` module, loaded only when asked for (see {@link loadModule}). */
type Json = typeof import("./sv_json.ts");

/**
 * Load a module of sv's optional commands by a computed specifier, so that
 * Deno does not read it (and what it imports) when sv starts without it.
 */
async function loadModule<T>(path: string): Promise<T> {
  return await import(new URL(path, import.meta.url).href);
}

/** One run of sv: its configuration and its error count. */
class Sv {
  rc = 0;
  readonly lsb: boolean;
  readonly svdir: string;
  readonly plan: Plan;
  /** When sv started: a change before this is not an effect of its command. */
  readonly start = now();
  tnow = this.start;
  /** The service being worked on, as the user named it. */
  service = "";
  /** Whether messages are about its log service. */
  isLog = false;
  out = "";
  /** With `--json`: its module; output lines are then JSON objects. */
  readonly json: Json | undefined;
  /** Each waited-for service's readiness across the wait's passes. */
  readonly readyWaits = new Map<string, ReadyWait>();

  constructor(options: { lsb: boolean; svdir: string; plan: Plan; json?: Json }) {
    this.lsb = options.lsb;
    this.svdir = options.svdir;
    this.plan = options.plan;
    this.json = options.json;
  }

  /** The directory of the service being worked on (`…/log` for its log service). */
  get path(): string {
    return `${servicePath(this.service, this.svdir)}${this.isLog ? "/log" : ""}`;
  }

  flush(): void {
    if (this.out) writeOut(this.out);
    this.out = "";
  }

  line(prefix: string, message: string): void {
    if (this.json) {
      const name = `${this.service}${this.isLog ? "/log" : ""}`;
      this.out += this.json.jsonLine({ name, path: this.path, error: message });
      return this.flush();
    }
    this.out += `${prefix}${this.service}${this.isLog ? "/log" : ""}: ${message}\n`;
    this.flush();
  }

  fail(message: string): void {
    this.rc++;
    this.line("fail: ", message);
  }

  warn(message: string): void {
    this.rc++;
    this.line("warning: ", message);
  }

  /** svstatus_get: the probe, with runit's message printed when there is no status. */
  getStatus(dirFd: number): Probe {
    const probe = probeStatus(dirFd);
    if (probe.kind === "not-running") {
      if (this.plan.acts[0] === "x") this.line("ok: ", "runsv not running");
      else this.fail("runsv not running");
    } else if (probe.kind === "error") {
      this.warn(probe.message);
    }
    return probe;
  }

  /** svstatus_print: 0 when `down` cannot be checked, 1 running, 2 not. */
  printStatus(dirFd: number, name: string, status: ServiceStatus): number {
    let normallyUp: boolean;
    try {
      normallyUp = isNormallyUp(dirFd);
    } catch (error) {
      this.flush();
      writeErr(`warning: unable to stat ${this.service}/down: ${errorText(errnoOf(error))}\n`);
      return 0;
    }
    const { notify, ready } = readReadiness(dirFd, status);
    const { text, running } = formatStatus(name, status, {
      now: this.tnow.sec,
      normallyUp,
      ready: notify === null ? undefined : ready !== null,
    });
    this.out += text;
    return running ? 1 : 2;
  }

  /** `status` or `check`'s report as one JSON line; returns the failures it counts. */
  reportJson(dirFd: number, check?: "ok" | "timeout"): number {
    const { object, errors } = this.json!.statusObject(dirFd, {
      name: this.service,
      path: this.path,
      nowSec: this.tnow.sec,
    });
    if (check !== undefined && object.error === undefined) object.check = check;
    this.out += this.json!.jsonLine(object);
    this.flush();
    if (this.lsb && check === undefined) {
      throw new Exit(object.error !== undefined ? 4 : object.pid ? 0 : 3);
    }
    return errors;
  }

  /** The status command for one service. */
  reportStatus(dirFd: number): number {
    if (this.json) {
      this.rc += this.reportJson(dirFd);
      return 0;
    }
    const probe = this.getStatus(dirFd);
    if (probe.kind === "error" && this.lsb) throw new Exit(4);
    if (probe.kind !== "status") return 0;
    const rc = this.printStatus(dirFd, this.service, probe.status);
    this.isLog = true;
    let logFd: number | undefined;
    try {
      logFd = openServiceDir("log", { dirFd });
    } catch (error) {
      const code = errnoOf(error);
      if (code === Errno.ENOENT) this.out += "\n";
      else {
        this.out += "; ";
        this.warn(`unable to change directory: ${errorText(code)}`);
      }
    }
    if (logFd !== undefined) {
      this.out += "; ";
      const log = this.getStatus(logFd);
      // As runit: after a warning, the service's own status is printed as the log's.
      if (log.kind !== "not-running") {
        this.printStatus(logFd, "log", log.kind === "status" ? log.status : probe.status);
        this.out += "\n";
      }
      closeFd(logFd);
    }
    this.isLog = false;
    this.flush();
    if (this.lsb) throw new Exit(rc === 1 ? 0 : rc === 2 ? 3 : 4);
    return rc;
  }

  /** control(): send the characters unless the service already wants that; false to give up. */
  control(dirFd: number, acts: string): boolean {
    const probe = this.getStatus(dirFd);
    if (probe.kind !== "status") return false;
    if (!needsSending(acts, probe.status)) return true;
    const result = sendControl(dirFd, acts);
    if (result === "sent") return true;
    if (result === "not-running") {
      if (acts[0] === "x") this.line("ok: ", "runsv not running");
      else this.fail("runsv not running");
    } else {
      this.warn(result.error);
    }
    return false;
  }

  /** check(): true when done (and reported) or given up, false while pending. */
  async check(dirFd: number, acts: string): Promise<boolean> {
    const probe = this.getStatus(dirFd);
    let readyWait = this.readyWaits.get(this.service);
    if (readyWait === undefined) this.readyWaits.set(this.service, readyWait = new ReadyWait());
    const progress = await commandProgress(acts, probe, {
      sent: this.start,
      check: async () => {
        const { passed, warning } = await runCheckScript(dirFd, { service: this.service });
        if (warning !== undefined) writeErr(`warning: ${warning}\n`);
        return passed;
      },
      ready: (status) => readyWait.step(status, readReadiness(dirFd, status)),
    });
    if (progress === "pending") return false;
    if (progress === "unready") {
      this.fail("down before ready");
      return true;
    }
    if (progress === "done" && probe.kind === "status" && this.json) {
      this.reportJson(dirFd, "ok");
    } else if (progress === "done" && probe.kind === "status") {
      this.out += "ok: ";
      this.printStatus(dirFd, this.service, probe.status);
      this.out += "\n";
      this.flush();
    }
    return true;
  }

  /** A service that is still pending when the wait is over: report it, and kill it if forced. */
  timeout(dirFd: number, name: string): void {
    if (this.json && this.plan.acts === "C") {
      this.rc++;
      this.reportJson(dirFd, "timeout");
      return;
    }
    this.out += this.plan.kill ? "kill: " : "timeout: ";
    const probe = this.getStatus(dirFd);
    if (probe.kind === "status") {
      this.printStatus(dirFd, name, probe.status);
      this.rc++;
    }
    this.out += "\n";
    this.flush();
    if (this.plan.kill) this.control(dirFd, "k");
  }

  /** Enter a service directory, or report why not. */
  enter(name: string): number | undefined {
    this.service = name;
    try {
      return openServiceDir(servicePath(name, this.svdir));
    } catch (error) {
      this.fail(`unable to change to service directory: ${errorText(errnoOf(error))}`);
      return undefined;
    }
  }
}

/**
 * Run sv with its command-line arguments; resolves with the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./sv.ts";
 * const code = await main(["status", "/etc/service/web"], { program: "sv", argv0: "sv" });
 * ```
 */
export async function main(args: string[], context: AppletContext): Promise<number> {
  const program = context.program;
  const lsb = program !== "sv";
  const usageText = lsb ? USAGE.svLsb : USAGE.sv;
  const showUsage = () => usage(program, { args: usageText, code: lsb ? 2 : 100 });
  const svwait = Deno.env.get("SVWAIT");
  let wait = svwait === undefined ? 7 : Number(scanUlong(svwait).value);
  let verbose = false;
  let json = false;
  const parsed = getopt(args, "w:vV", { program, long: ["json"] });
  if (!parsed.ok) showUsage();
  for (const option of parsed.options) {
    if (option.name === "w") wait = Number(scanUlong(option.value!).value);
    if (option.name === "w" || option.name === "v") verbose = true;
    if (option.name === "json") json = true;
    if (option.name === "V") {
      writeErr(`${versionLine()}\n`);
      showUsage();
    }
  }
  const [action, ...names] = parsed.operands;
  if (action === undefined) showUsage();
  const plan = planCommand(action, { lsb, verbose });
  if (plan === undefined) showUsage();
  const svdir = Deno.env.get("SVDIR") ?? DEFAULT_SVDIR;
  if (plan!.logs) {
    const logs: typeof import("./sv_logs.ts") = await loadModule("./sv_logs.ts");
    return await logs.main(names, { program, svdir });
  }
  // `status --json web`: the word right after the command, too (write `./--json` for a
  // service of that name).
  if (names[0] === "--json" && (plan!.status || plan!.acts === "C")) {
    json = true;
    names.shift();
  }
  if (json && !plan!.status && plan!.acts !== "C") showUsage();
  const services = lsb ? [program] : names;
  if (services.length === 0) showUsage();
  const sv = new Sv({
    lsb,
    svdir,
    plan: plan!,
    json: json ? await loadModule<Json>("./sv_json.ts") : undefined,
  });

  const pending: string[] = [];
  for (const name of services) {
    const dirFd = sv.enter(name);
    if (dirFd === undefined) continue;
    let keep = true;
    if (plan!.status) sv.reportStatus(dirFd);
    else if (plan!.send) keep = sv.control(dirFd, plan!.acts);
    closeFd(dirFd);
    if (keep) pending.push(name);
  }

  if (plan!.wait) {
    await waitLoop(pending, async (name, { tnow, late }) => {
      sv.tnow = tnow;
      const dirFd = sv.enter(name);
      if (dirFd === undefined) return true;
      try {
        if (await sv.check(dirFd, plan!.acts)) return true;
        if (late) sv.timeout(dirFd, name);
        return false;
      } finally {
        closeFd(dirFd);
      }
    }, {
      start: sv.start,
      timeout: wait * 1000,
      watch: pending.flatMap((name) => {
        const dir = servicePath(name, svdir);
        return [`${dir}/supervise`, `${dir}/log/supervise`];
      }),
    });
  }
  return Math.min(sv.rc, 99);
}
