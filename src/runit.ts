/**
 * runit(8): process 1. Runs /etc/runit/1 (boot), then /etc/runit/2 (the
 * running system, normally runsvdir) until told to shut down, then
 * /etc/runit/3, and finally reboots, powers off or halts. Every orphan is
 * reaped at once in all stages (the one reaper, src/reactor/children.ts).
 *
 * As runit 2.3.0, with its messages. Differences, on purpose:
 * - Process 1 of a PID namespace other than the initial one (a container)
 *   takes SIGTERM as `runit-init 0`: stage 2 is stopped (or skipped, when the
 *   TERM comes in stage 1) and the system halts whatever /etc/runit/reboot
 *   says, so that `docker stop` shuts down gracefully.
 * - Deno cannot fork, so process 1 itself calls reboot(2) (runit forks a
 *   child for it) and prints what runit's forked children print.
 *
 * @module
 */

import { Children } from "./reactor/children.ts";
import { catchSignal } from "./sys/signals.ts";
import { AT_FDCWD, chmodAt, closeFd, O, openAt } from "./sys/fs.ts";
import { replaceFd } from "./sys/descriptors.ts";
import { exitCode, newSession, sendSignal, SIG, type SpawnOptions } from "./sys/process.ts";
import { errnoOf, errorText } from "./sys/errno.ts";
import { inInitialPidNamespace, RB, rebootSystem, syncAll } from "./sys/reboot.ts";
import {
  CTRLALTDEL,
  exists,
  NOSYNC,
  ownerExecutable,
  REBOOT,
  STAGES,
  STOPIT,
} from "./init/paths.ts";
import { writeErr } from "./cli/output.ts";
import { type AppletContext, versionLine } from "./cli/program.ts";

const INFO = "- runit: ";
const WARNING = "- runit: warning: ";
const FATAL = "- runit: fatal: ";
const CONSOLE = "/dev/console";
/** runit's pause before restarting a failed stage 2, and its grace for a TERMed one. */
const PAUSE_MS = 5000;

function info(text: string): void {
  writeErr(`${INFO}${text}\n`);
}

function warn(text: string): void {
  writeErr(`${WARNING}${text}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Run as process 1; resolves (with 111) only when this is not process 1.
 *
 * @example
 * ```ts ignore
 * import { main } from "./runit.ts";
 * await main([], { program: "runit", argv0: "runit" }); // the kernel started us
 * ```
 */
export async function main(_args: string[], _context: AppletContext): Promise<number> {
  if (Deno.pid !== 1) {
    writeErr(`${FATAL}must be run as process no 1.\n`);
    return 111;
  }
  try {
    await new Runit().run();
  } catch (error) {
    // Process 1 must not exit (the kernel would panic): say why, and stay.
    writeErr(`${FATAL}${error instanceof Error ? error.message : error}\n`);
    setInterval(() => {}, 60_000);
    await new Promise(() => {});
  }
  return 111;
}

/** A started stage (or ctrlaltdel): pid 0 when it could not be started. */
interface Stage {
  pid: number;
  exited: Promise<number>;
  /** Reaped already: its pid may belong to another process by now. */
  ended: boolean;
}

/** Process 1's state: the stage, the signals seen and not yet acted on. */
class Runit {
  #children = new Children();
  #stage = 0;
  /** CONT and INT (ctrl-alt-del) seen, as runit's sigc and sigi. */
  #cont = 0;
  #int = 0;
  /** A container's SIGTERM: halt. */
  #halt = false;
  #signalled = false;
  #wake: (() => void) | undefined;

  /** Boot, run, shut down; resolves only if every way to end the system failed. */
  async run(): Promise<void> {
    newSession();
    catchSignal("SIGCONT", () => this.#poke(() => this.#cont++));
    catchSignal("SIGINT", () => this.#poke(() => this.#int++));
    catchSignal("SIGTERM", () => this.#term());
    // Caught to be ignored: Deno's own handler would end process 1.
    catchSignal("SIGHUP", () => {});
    consoleOnStdio();
    try {
      rebootSystem(RB.DISABLE_CAD);
    } catch {
      // Refused in a PID namespace: ctrl-alt-del is the host's business there.
    }
    info(`${versionLine()}: booting.`);
    while (this.#stage < 3) this.#stage = await this.#runStage(this.#stage);
    consoleOnStderr();
    info("sending KILL signal to all processes...");
    sendSignal(-1, SIG.KILL);
    await this.#endSystem();
    // Still here: reboot(2) failed. Stay process 1, reaping, as runit does.
    setInterval(() => this.#children.reap(), 60_000);
    await new Promise(() => {});
  }

  /** Run stage `st` (0, 1, 2) to its end; resolves with the next stage. */
  async #runStage(st: number): Promise<number> {
    const path = STAGES[st];
    if (st === 1 && this.#halt) {
      warn("skipping stage 2...");
      return 2;
    }
    const stage = this.#start(path, st === 0 ? stdinOnConsole() : { leadSession: true });
    for (;;) {
      const status = await Promise.race([stage.exited, this.#nextSignal()]);
      this.#wake = undefined;
      consoleOnStderr();
      if (status !== undefined) return await this.#afterExit(st, stage.pid, status);
      if (!this.#cont && !this.#int && !this.#halt) continue;
      if (st !== 1) {
        if (this.#cont || this.#int) warn("signals only work in stage 2.");
        this.#cont = this.#int = 0;
        continue;
      }
      if (this.#int && ownerExecutable(CTRLALTDEL)) {
        info("ctrl-alt-del request...");
        // exitCode is -1 for runit's wait_crashed: ended by a signal.
        if (exitCode(await this.#start(CTRLALTDEL, {}).exited) < 0) {
          warn(`child crashed: ${CTRLALTDEL}`);
        }
        info(`leave stage: ${CTRLALTDEL}`);
        this.#int = 0;
        this.#cont++;
      }
      const stopit = this.#cont > 0 && ownerExecutable(STOPIT);
      if (stopit || this.#halt) {
        if (stopit) clearMode(STOPIT);
        await stopStage2(stage);
        this.#cont = 0;
        info(`leave stage: ${path}`);
        return 2;
      }
      this.#cont = this.#int = 0;
    }
  }

  /** What runit does when stage `st` has exited: the next stage to run. */
  async #afterExit(st: number, pid: number, status: number): Promise<number> {
    const path = STAGES[st];
    const code = exitCode(status);
    // -1 (ended by a signal) is runit's wait_crashed.
    const crashed = code < 0;
    if (code !== 0) {
      warn(`${crashed ? "child crashed" : "child failed"}: ${path}`);
      if (st === 0 && (crashed || code === 100)) {
        info(`leave stage: ${path}`);
        warn("skipping stage 2...");
        return 2;
      }
      if (st === 1 && (crashed || code === 111)) {
        warn("killing all processes in stage 2...");
        sendSignal(-pid, SIG.KILL);
        await sleep(PAUSE_MS);
        warn("restarting.");
        return 1;
      }
    }
    info(`leave stage: ${path}`);
    return st + 1;
  }

  /** Start `path` as runit's child prints it; one that cannot start counts as exit 0. */
  #start(path: string, options: SpawnOptions): Stage {
    info(`enter stage: ${path}`);
    const { promise, resolve } = Promise.withResolvers<number>();
    try {
      const stage: Stage = { pid: 0, exited: promise, ended: false };
      stage.pid = this.#children.start([path], options, (status) => {
        stage.ended = true;
        resolve(status);
      });
      return stage;
    } catch (error) {
      writeErr(`${FATAL}unable to start child: ${path}: ${errorText(errnoOf(error))}\n`);
      return { pid: 0, exited: Promise.resolve(0), ended: true };
    } finally {
      // Stage 1's console descriptor is the child's now.
      for (const [, fd] of options.dup ?? []) closeFd(fd);
    }
  }

  /** Reboot when asked to (and no container TERM said halt), else power off, then halt. */
  async #endSystem(): Promise<void> {
    if (!this.#halt && ownerExecutable(REBOOT)) {
      info("system reboot.");
      syncAndReboot(RB.AUTOBOOT);
      return;
    }
    info("power off...");
    syncAndReboot(RB.POWER_OFF);
    await sleep(2000);
    info("system halt.");
    syncAndReboot(RB.HALT_SYSTEM);
  }

  /** SIGTERM: a graceful halt in a container, nothing on a host (runit ignores it). */
  #term(): void {
    if (this.#halt || this.#stage > 1 || inInitialPidNamespace()) return;
    info("TERM: halt request...");
    this.#poke(() => this.#halt = true);
  }

  /** Note a signal, and wake the stage loop (now, or as soon as it waits). */
  #poke(note: () => void): void {
    note();
    this.#signalled = true;
    this.#wake?.();
  }

  /** Resolves (with undefined) once a signal has been noted since the last call. */
  #nextSignal(): Promise<undefined> {
    const { promise, resolve } = Promise.withResolvers<undefined>();
    this.#wake = () => {
      this.#signalled = false;
      resolve(undefined);
    };
    if (this.#signalled) this.#wake();
    return promise;
  }
}

/** TERM stage 2, give it runit's 5 s, then KILL it; resolves once it is reaped. */
async function stopStage2(stage: Stage): Promise<void> {
  if (stage.pid <= 0 || stage.ended) return;
  sendSignal(stage.pid, SIG.TERM);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(true), PAUSE_MS));
  const stopped = await Promise.race([stage.exited.then(() => false), late]);
  clearTimeout(timer);
  if (!stopped || stage.ended) return;
  warn("stage 2 not terminated, sending sigkill...");
  sendSignal(stage.pid, SIG.KILL);
  await stage.exited;
}

/** chmod 0, as runit clears stopit once it acts on it (a failure is ignored, as there). */
function clearMode(path: string): void {
  try {
    chmodAt(AT_FDCWD, path, 0);
  } catch {
    // runit does not check either.
  }
}

/** sync(2) unless /etc/runit/nosync exists, then reboot(2); a refusal is survived. */
function syncAndReboot(command: number): void {
  if (!exists(NOSYNC)) syncAll();
  try {
    rebootSystem(command);
  } catch {
    // Not allowed (no CAP_SYS_BOOT): runit goes on as well.
  }
}

/** The console, write-only and non-blocking as runit opens it, or undefined. */
function openConsole(): number | undefined {
  try {
    return openAt(AT_FDCWD, CONSOLE, { flags: O.WRONLY | O.NONBLOCK | O.CLOEXEC });
  } catch {
    return undefined;
  }
}

/** Standard input, output and error on the console, when it opens. */
function consoleOnStdio(): void {
  const fd = openConsole();
  if (fd === undefined) return;
  replaceFd(0, fd);
  replaceFd(1, fd);
  replaceFd(2, fd, { move: true });
}

/** Standard error on the console again (runit's "reget stderr"), when it opens. */
function consoleOnStderr(): void {
  const fd = openConsole();
  if (fd !== undefined) replaceFd(2, fd, { move: true });
}

/**
 * Stage 1's full control of the console: it is its standard input, read and
 * write. (runit's child also tries TIOCSCTTY, which the kernel refuses to a
 * process that does not lead its session; /dev/console itself never becomes
 * a controlling terminal on open.)
 */
function stdinOnConsole(): SpawnOptions {
  try {
    const fd = openAt(AT_FDCWD, CONSOLE, { flags: O.RDWR | O.NOCTTY | O.CLOEXEC });
    return { dup: [[0, fd]] };
  } catch (error) {
    warn(`unable to open ${CONSOLE}: ${errorText(errnoOf(error))}`);
    return {};
  }
}
