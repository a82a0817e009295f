/**
 * sv(8): report and control services supervised by runsv, also as an LSB
 * init script when called by another name (`/etc/init.d/web status`).
 *
 * Output lines and exit codes are runit's; so is the order in which things
 * are checked, which decides what a user sees when several things are wrong.
 *
 * @module
 */

import { getopt } from "./cli/getopt.ts";
import { Exit, usage, writeErr, writeOut } from "./cli/output.ts";
import { type AppletContext, USAGE, versionLine } from "./cli/program.ts";
import {
  closeFd,
  Errno,
  errnoOf,
  errorText,
  exitCode,
  now,
  spawn,
  statAt,
  waitFor,
} from "./sys/mod.ts";
import {
  checkScriptApplies,
  isNormallyUp,
  openServiceDir,
  probeStatus,
  sendControl,
  tookEffect,
} from "./supervise/client.ts";
import type { ServiceStatus } from "./supervise/status.ts";

/** The services directory when SVDIR is not set (upstream runit's default). */
export const DEFAULT_SVDIR = "/service/";

/** What an sv command does: characters to send, then what to wait for. */
interface Plan {
  /** Send `acts` to each service (false for status and check). */
  send: boolean;
  /** The control characters (or "s" for status, "C" for check). */
  acts: string;
  /** Wait for the command to take effect. */
  wait: boolean;
  /** On timeout, send `k` (the force- commands). */
  kill: boolean;
  /** Report status instead of sending. */
  status: boolean;
}

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
 * The plan for an sv command, or undefined when the command is not one
 * (sv then prints its usage).
 *
 * @example
 * ```ts
 * import { planCommand } from "./sv.ts";
 * planCommand("restart", { lsb: false, verbose: false })?.acts; // "tcu"
 * ```
 */
export function planCommand(
  action: string,
  options: { lsb: boolean; verbose: boolean },
): Plan | undefined {
  const plan = (acts: string, wait: boolean, kill = false): Plan => ({
    send: true,
    acts,
    wait,
    kill,
    status: false,
  });
  const simple = () => plan(action[0], options.verbose);
  switch (action[0]) {
    case "x":
    case "e":
      return plan("x", options.verbose);
    case "X":
    case "E":
      return plan("x", true, true);
    case "D":
      return plan("d", true, true);
    case "T":
      return plan("tc", true, true);
    case "t":
      if (action === "try-restart") return plan("tc", true);
      return simple();
    case "c":
      if (action === "check") {
        return { send: false, acts: "C", wait: true, kill: false, status: false };
      }
      return simple();
    case "u":
    case "d":
    case "o":
    case "p":
    case "h":
    case "a":
    case "i":
    case "k":
    case "q":
    case "1":
    case "2":
      return simple();
    case "s":
      if (action === "shutdown") return plan("x", true);
      if (action === "start") return plan("u", true);
      if (action === "stop") return plan("d", true);
      if (options.lsb && action !== "status") return undefined;
      return { send: false, acts: "s", wait: false, kill: false, status: true };
    case "r":
      if (action === "restart") return plan("tcu", true);
      if (action === "reload") return plan("h", true);
      return undefined;
    case "f":
      if (action === "force-reload") return plan("tc", true, true);
      if (action === "force-restart") return plan("tcu", true, true);
      if (action === "force-shutdown") return plan("x", true, true);
      if (action === "force-stop") return plan("d", true, true);
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Format one status the way sv prints it, e.g.
 * `run: web: (pid 123) 5s, normally down`. Returns the text and whether a
 * process runs (sv's 1) or not (2).
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
  options: { now: number; normallyUp: boolean },
): { text: string; running: boolean } {
  const { pid } = status;
  let text = `${status.state}: ${name}: `;
  if (status.state !== "down") text += `(pid ${pid}) `;
  text += `${Math.max(0, options.now - status.sec)}s`;
  if (pid && !options.normallyUp) text += ", normally down";
  if (!pid && options.normallyUp) text += ", normally up";
  if (pid && status.paused) text += ", paused";
  if (!pid && status.want === "up") text += ", want up";
  if (pid && status.want === "down") text += ", want down";
  if (pid && status.gotTerm) text += ", got TERM";
  return { text, running: pid !== 0 };
}

/** Parse a number as scan_ulong does: leading digits, 0 when there are none. */
function scanUlong(text: string): number {
  const digits = /^\d*/.exec(text)?.[0] ?? "";
  return digits === "" ? 0 : Number(digits);
}

/** One run of sv: its configuration and its error count. */
class Sv {
  rc = 0;
  readonly lsb: boolean;
  readonly svdir: string;
  readonly plan: Plan;
  readonly start = now();
  tnow = this.start;
  /** The service being worked on, as the user named it. */
  service = "";
  /** Whether messages are about its log service. */
  isLog = false;
  status: ServiceStatus | undefined;
  out = "";

  constructor(options: { lsb: boolean; svdir: string; plan: Plan }) {
    this.lsb = options.lsb;
    this.svdir = options.svdir;
    this.plan = options.plan;
  }

  flush(): void {
    if (this.out) writeOut(this.out);
    this.out = "";
  }

  line(prefix: string, message: string): void {
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

  /** svstatus_get: 1 with this.status set, 0 when runsv is not running, -1 on error. */
  getStatus(dirFd: number): number {
    const probe = probeStatus(dirFd);
    if (probe.kind === "not-running") {
      if (this.plan.acts[0] === "x") this.line("ok: ", "runsv not running");
      else this.fail("runsv not running");
      return 0;
    }
    if (probe.kind === "error") {
      this.warn(probe.message);
      return -1;
    }
    this.status = probe.status;
    return 1;
  }

  /** svstatus_print: 0 when `down` cannot be checked, 1 running, 2 not. */
  printStatus(dirFd: number, name: string): number {
    let normallyUp: boolean;
    try {
      normallyUp = isNormallyUp(dirFd);
    } catch (error) {
      this.flush();
      writeErr(`warning: unable to stat ${this.service}/down: ${errorText(errnoOf(error))}\n`);
      return 0;
    }
    const { text, running } = formatStatus(name, this.status!, { now: this.tnow.sec, normallyUp });
    this.out += text;
    return running ? 1 : 2;
  }

  /** The status command for one service. */
  reportStatus(dirFd: number): number {
    const got = this.getStatus(dirFd);
    if (got === -1 && this.lsb) throw new Exit(4);
    if (got <= 0) return 0;
    const rc = this.printStatus(dirFd, this.service);
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
      // As runit: after a warning, the service's own status is printed as the log's.
      if (this.getStatus(logFd) !== 0) {
        this.printStatus(logFd, "log");
        this.out += "\n";
      }
      closeFd(logFd);
    }
    this.isLog = false;
    this.flush();
    if (this.lsb) throw new Exit(rc === 1 ? 0 : rc === 2 ? 3 : 4);
    return rc;
  }

  /** control(): send the characters unless the service already wants that. */
  control(dirFd: number, acts: string): number {
    if (this.getStatus(dirFd) <= 0) return -1;
    const status = this.status!;
    const want = status.want === "up" ? "u" : "d";
    if (want === acts[0] && (acts[0] !== "d" || status.gotTerm)) return 0;
    const result = sendControl(dirFd, acts);
    if (result === "sent") return 1;
    if (result === "not-running") {
      if (acts[0] === "x") this.line("ok: ", "runsv not running");
      else this.fail("runsv not running");
    } else {
      this.warn(result.error);
    }
    return -1;
  }

  /** The ./check script: true when absent or exiting 0. */
  async checkScript(dirFd: number): Promise<boolean> {
    let stat;
    try {
      stat = statAt(dirFd, "check");
    } catch (error) {
      writeErr(`warning: unable to stat ${this.service}/check: ${errorText(errnoOf(error))}\n`);
      return false;
    }
    if (stat === undefined) return true;
    let pid: number;
    try {
      pid = spawn(["./check"], { cwdFd: dirFd, close: [1] });
    } catch (error) {
      // runit's child prints this and exits 0, which counts as success.
      writeErr(`warning: unable to run ${this.service}/check: ${errorText(errnoOf(error))}\n`);
      return true;
    }
    return exitCode(await waitFor(pid)) === 0;
  }

  /** check(): 1 when every character has taken effect, 0 not yet, -1 give up. */
  async check(dirFd: number, acts: string): Promise<number> {
    const got = this.getStatus(dirFd);
    if (got === -1) return -1;
    for (const act of acts) {
      if (got === 0) return act === "x" ? 1 : -1;
      const status = this.status!;
      const c = act === "C" ? (status.want === "down" ? "d" : "u") : act;
      if (!tookEffect(c, status, { since: this.start.sec })) return 0;
      if (checkScriptApplies(c, status) && !(await this.checkScript(dirFd))) return 0;
    }
    this.out += "ok: ";
    this.printStatus(dirFd, this.service);
    this.out += "\n";
    this.flush();
    return 1;
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
 * ```ts
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
  let wait = svwait === undefined ? 7 : scanUlong(svwait);
  let verbose = false;
  const parsed = getopt(args, "w:vV", { program });
  if (!parsed.ok) showUsage();
  for (const option of parsed.options) {
    if (option.name === "w") wait = scanUlong(option.value!);
    if (option.name === "w" || option.name === "v") verbose = true;
    if (option.name === "V") {
      writeErr(`${versionLine()}\n`);
      showUsage();
    }
  }
  const [action, ...names] = parsed.operands;
  if (action === undefined) showUsage();
  const services = lsb ? [program] : names;
  if (services.length === 0) showUsage();
  const plan = planCommand(action, { lsb, verbose });
  if (plan === undefined) showUsage();
  const sv = new Sv({ lsb, svdir: Deno.env.get("SVDIR") ?? DEFAULT_SVDIR, plan: plan! });

  const pending: Array<string | undefined> = [];
  for (const name of services) {
    const dirFd = sv.enter(name);
    if (dirFd === undefined) {
      pending.push(undefined);
      continue;
    }
    let result = 0;
    if (plan!.status) result = sv.reportStatus(dirFd);
    else if (plan!.send) result = sv.control(dirFd, plan!.acts);
    closeFd(dirFd);
    pending.push(result === -1 ? undefined : name);
  }

  if (plan!.wait) {
    for (;;) {
      const elapsed = (sv.tnow.sec - sv.start.sec) + (sv.tnow.nsec - sv.start.nsec) / 1e9;
      let done = true;
      for (let i = 0; i < pending.length; i++) {
        const name = pending[i];
        if (name === undefined) continue;
        const dirFd = sv.enter(name);
        if (dirFd === undefined) {
          pending[i] = undefined;
          continue;
        }
        if ((await sv.check(dirFd, plan!.acts)) !== 0) pending[i] = undefined;
        else done = false;
        if (pending[i] !== undefined && elapsed > wait) {
          sv.out += plan!.kill ? "kill: " : "timeout: ";
          if (sv.getStatus(dirFd) > 0) {
            sv.printStatus(dirFd, name);
            sv.rc++;
          }
          sv.out += "\n";
          sv.flush();
          if (plan!.kill) sv.control(dirFd, "k");
          pending[i] = undefined;
        }
        closeFd(dirFd);
      }
      if (done) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
      sv.tnow = now();
    }
  }
  return Math.min(sv.rc, 99);
}
