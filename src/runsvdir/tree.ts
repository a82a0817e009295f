/**
 * runsvdir's core: supervise every service directory of one directory, all
 * in this process, each with its own {@link Supervisor} (the code `runsv DIR`
 * runs), sharing one reactor and one reaper.
 *
 * A supervisor that meets an unexpected exception (a bug, not a failed
 * system call) stops its processes and is replaced by a new one after a
 * backoff (1 s, doubled each time in a row, at most 60 s), reported as
 * `runsvdir DIR: warning: NAME: …`; the others are untouched.
 *
 * Entries are known by device and inode, as in runit: a rename changes
 * nothing, a second symlink to a supervised directory is ignored, and an
 * entry that goes away has its service and log taken down as `x` does. A
 * supervisor that could not start (runsv would exit 111) is tried again after
 * {@link ServiceTreeOptions.retryMs}; one that exited after `x` is started
 * again at once (runit restarts a runsv that exits).
 *
 * Changes are noticed through inotify on the directory, read by the one
 * reactor, with a periodic rescan as the safety net (symlink targets, missed
 * events). Any event just triggers a rescan: reading the directory is cheap.
 *
 * An entry that appears while runsvdir runs is noticed at once but started
 * only once it has settled, so that a directory still being copied in place
 * (`cp -a web web.new`) is not started half-written: its `run` must exist
 * and the directory, its names, `run`, `log` and `log/run` must have stayed
 * unchanged for {@link ServiceTreeOptions.settleMs} (50 ms). An entry that
 * does not settle that way (no `run`, or never quiet) is started anyway
 * {@link ServiceTreeOptions.settleMaxMs} (5 s) after it was first seen, and
 * then supervised as runit does (`./run` tried every second). Entries found
 * by the first scan start at once, as at boot under runit.
 *
 * @module
 */

import {
  AT_FDCWD,
  closeFd,
  drainChanges,
  Errno,
  errorText,
  getLimit,
  listDir,
  messageOf,
  O,
  openAt,
  RLIMIT,
  S,
  statAt,
  watchDirectories,
} from "../sys/mod.ts";
import type { Children, Reactor } from "../reactor/mod.ts";
import { Supervisor, SupervisorFatal } from "../supervise/supervisor.ts";
import { type EntryShape, entryShape, scanServices } from "./scan.ts";

/** How a {@link ServiceTree} runs and reports. */
export interface ServiceTreeOptions {
  /** The reactor shared by every supervisor. */
  reactor: Reactor;
  /** The reaper shared by every supervisor. */
  children: Children;
  /** Each service's processes get their own session and process group (-P). */
  newSession?: boolean;
  /** Receives each message line (without newline). */
  report: (line: string) => void;
  /** Delay before a supervisor that failed to start is tried again; 1000 ms. */
  retryMs?: number;
  /** Interval of the safety-net rescan; 5000 ms. */
  rescanMs?: number;
  /** How long a new entry with a `run` must stay unchanged before it starts; 50 ms. */
  settleMs?: number;
  /** A new entry starts at the latest this long after it was first seen; 5000 ms. */
  settleMaxMs?: number;
}

/** A new entry waiting to settle (times from `performance.now()`). */
interface Pending {
  /** When the entry was first seen. */
  seen: number;
  /** When its shape was last seen to change (or first seen). */
  quietSince: number;
  shape: EntryShape;
}

interface Slot {
  key: string;
  name: string;
  supervisor: Supervisor | undefined;
  retryAt: number;
  /** The last fatal message, so that a retry failing the same way stays quiet. */
  lastFatal: string | undefined;
  /** Set while a new entry settles; it is not started before that ends. */
  pending: Pending | undefined;
  /** Unexpected failures of its supervisor in a row: the restart backoff grows with them. */
  failures: number;
}

const DIRECTORY = O.RDONLY | O.DIRECTORY | O.CLOEXEC;
/** A change event is followed by a rescan this soon (events come in bursts). */
const EVENT_DELAY_MS = 2;
/** The shortest wait between two looks at settling entries. */
const SETTLE_POLL_MIN_MS = 5;
/**
 * Descriptors a supervisor holds: the service directory, then `lock`,
 * `control` and `ok` of `supervise/`; a log adds its directory, its own
 * three, and the pipe's two ends, and while its logging is hosted the host
 * channel, the logger's stdin and stderr, and per log directory its
 * directory, `lock` and `current` (counted for one).
 */
const DESCRIPTORS_PER_SERVICE = 4;
const DESCRIPTORS_PER_LOG = 12;
/**
 * Descriptors kept free for what runs: a status file being replaced, the
 * session helper's pipe, a directory listing, and Deno's own.
 */
const DESCRIPTOR_RESERVE = 8;
/** A supervisor that failed unexpectedly is restarted after this, doubled each time in a row. */
const FAILURE_BACKOFF_MS = 1000;
const FAILURE_BACKOFF_MAX_MS = 60_000;
/** A supervisor that ran this long without failing starts its backoff afresh. */
const FAILURE_FORGOTTEN_MS = 60_000;
/** After the stop timeout, KILL again this often, this many times. */
const KILL_INTERVAL_MS = 1000;
const KILL_ROUNDS = 5;

/**
 * The services of one directory.
 *
 * @example
 * ```ts ignore
 * import { ServiceTree } from "./tree.ts";
 * import { Children, Reactor } from "../reactor/mod.ts";
 * const reactor = new Reactor();
 * const tree = new ServiceTree("/etc/service", {
 *   reactor,
 *   children: new Children(),
 *   report: (line) => console.error(line),
 * });
 * reactor.run();
 * tree.start();
 * const clean = await tree.stop({ timeoutMs: 7000 });
 * ```
 */
export class ServiceTree {
  /** The directory, as given. */
  readonly dir: string;
  #options: ServiceTreeOptions;
  #slots = new Map<string, Slot>();
  #leaving = new Set<Supervisor>();
  #warned = new Set<string>();
  /** The inotify descriptor on the directory, -1 when none. */
  #watchFd = -1;
  #watchedKey: string | undefined;
  #interval: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #eventTimer: ReturnType<typeof setTimeout> | undefined;
  #settleTimer: ReturnType<typeof setTimeout> | undefined;
  #stopping = false;
  /** Whether a scan has read the directory: entries found later must settle. */
  #scanned = false;
  #lastScan: { key: string; mtimeSec: number; at: number; links: boolean } | undefined;
  /** Free descriptors left for new supervisors in this pass; measured on first need. */
  #budget: number | undefined;
  /** Entries waiting for descriptors (not reported one by one). */
  #starving = new Set<string>();
  #starvationReported = false;
  #backoffTimers = new Set<ReturnType<typeof setTimeout>>();

  constructor(dir: string, options: ServiceTreeOptions) {
    this.dir = dir;
    this.#options = options;
  }

  /** Names of the entries that have a running supervisor. */
  get services(): string[] {
    return [...this.#slots.values()].filter((slot) => slot.supervisor).map((slot) => slot.name);
  }

  /** Every supervisor, including those of removed entries still going down. */
  get supervisors(): Supervisor[] {
    const current = [...this.#slots.values()].flatMap((slot) => slot.supervisor ?? []);
    return [...current, ...this.#leaving];
  }

  /** Scan now, then watch for changes and rescan periodically. */
  start(): void {
    this.scan();
    this.#interval = setInterval(() => this.#safetyNet(), this.#options.rescanMs ?? 5000);
  }

  /** Bring the supervised set in line with the directory. */
  scan(): void {
    if (this.#stopping) return;
    this.#budget = undefined;
    const warnings: string[] = [];
    const at = Date.now();
    const dir = this.#ensureWatch(warnings);
    const result = scanServices(this.dir);
    this.#lastScan = dir && !result.failed ? { ...dir, at, links: result.links } : undefined;
    if (result.failed) warnings.push(result.failed);
    else warnings.push(...result.warnings);
    this.#warnOnce(warnings);
    if (result.failed) return;
    const now = Date.now();
    const present = new Set<string>();
    const initial = !this.#scanned;
    this.#scanned = true;
    for (const { name, key } of result.entries) {
      present.add(key);
      let slot = this.#slots.get(key);
      if (!slot) {
        slot = {
          key,
          name,
          supervisor: undefined,
          retryAt: 0,
          lastFatal: undefined,
          pending: undefined,
          failures: 0,
        };
        this.#slots.set(key, slot);
        if (!initial) {
          const shape = entryShape(`${this.dir}/${name}`);
          const seen = performance.now();
          slot.pending = { seen, quietSince: seen, shape };
        }
      }
      // A renamed entry is started (again) under its current name.
      slot.name = name;
      if (slot.pending && !this.#settled(slot, slot.pending)) continue;
      if (!slot.supervisor && now >= slot.retryAt) this.#launch(slot);
    }
    for (const [key, slot] of this.#slots) {
      if (present.has(key)) continue;
      this.#slots.delete(key);
      this.#starving.delete(key);
      if (slot.supervisor) this.#retire(slot.supervisor);
    }
    this.#reportStarvation();
    this.#armSettle();
  }

  /**
   * Out of descriptors: one line when entries start waiting for them, one
   * when every entry is supervised again (not one per entry and retry).
   */
  #reportStarvation(): void {
    const waiting = this.#starving.size;
    if (waiting > 0 && !this.#starvationReported) {
      const limit = getLimit(RLIMIT.NOFILE).soft;
      this.#options.report(
        `runsvdir ${this.dir}: warning: out of descriptors (limit ${limit}): ` +
          `${waiting} services wait, retrying`,
      );
      this.#starvationReported = true;
    } else if (waiting === 0 && this.#starvationReported) {
      this.#options.report(`runsvdir ${this.dir}: warning: descriptors free again: all supervised`);
      this.#starvationReported = false;
    }
  }

  /**
   * Whether a supervisor for `slot` fits in the descriptors left, keeping
   * {@link DESCRIPTOR_RESERVE} free so that what runs goes on running.
   */
  #roomFor(slot: Slot): boolean {
    this.#budget ??= freeDescriptors();
    let needed = DESCRIPTORS_PER_SERVICE;
    try {
      const log = statAt(AT_FDCWD, `${this.dir}/${slot.name}/log`);
      if (log && (log.mode & S.IFMT) === S.IFDIR) needed += DESCRIPTORS_PER_LOG;
    } catch {
      // Its supervisor reports that.
    }
    if (this.#budget - needed < DESCRIPTOR_RESERVE) return false;
    this.#budget -= needed;
    return true;
  }

  /** Make `slot` wait for descriptors, tried again after the retry delay. */
  #starve(slot: Slot): void {
    this.#starving.add(slot.key);
    slot.retryAt = Date.now() + (this.#options.retryMs ?? 1000);
    this.#armRetry();
  }

  /**
   * Look at a settling entry again; true (and no longer pending) once it
   * has a `run` and has been quiet for settleMs, or was first seen
   * settleMaxMs ago.
   */
  #settled(slot: Slot, pending: Pending): boolean {
    const shape = entryShape(`${this.dir}/${slot.name}`);
    // Taken after the look, so that a change during it counts from now.
    const now = performance.now();
    if (shape.print !== pending.shape.print) {
      pending.shape = shape;
      pending.quietSince = now;
    }
    // Gone or renamed since the scan: the next scan (an event is on its way) decides.
    if (!shape.exists) return false;
    const quiet = shape.hasRun && now - pending.quietSince >= this.#settleMs;
    if (!quiet && now - pending.seen < this.#settleMaxMs) return false;
    slot.pending = undefined;
    return true;
  }

  get #settleMs(): number {
    return this.#options.settleMs ?? 50;
  }

  get #settleMaxMs(): number {
    return this.#options.settleMaxMs ?? 5000;
  }

  /** While entries settle, look at them again when the first could be done. */
  #armSettle(): void {
    if (this.#settleTimer !== undefined || this.#stopping) return;
    const now = performance.now();
    let due = Infinity;
    for (const { pending } of this.#slots.values()) {
      if (!pending) continue;
      // Without run, look again every settleMs for it to appear.
      const quiet = pending.shape.hasRun ? pending.quietSince : now;
      due = Math.min(due, quiet + this.#settleMs, pending.seen + this.#settleMaxMs);
    }
    if (due === Infinity) return;
    const wait = Math.max(SETTLE_POLL_MIN_MS, Math.ceil(due - now));
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = undefined;
      this.#settlePending();
    }, wait);
  }

  #settlePending(): void {
    if (this.#stopping) return;
    this.#budget = undefined;
    const now = Date.now();
    for (const slot of this.#slots.values()) {
      if (!slot.pending || !this.#settled(slot, slot.pending)) continue;
      if (!slot.supervisor && now >= slot.retryAt) this.#launch(slot);
    }
    this.#reportStarvation();
    this.#armSettle();
  }

  /**
   * Take every service and log service down as `x` does (control/t
   * overrides honoured); KILL what still runs after `timeoutMs`, and again
   * every second. True when everything went down without KILL.
   */
  async stop(options: { timeoutMs: number }): Promise<boolean> {
    this.#stopping = true;
    clearInterval(this.#interval);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#eventTimer);
    clearTimeout(this.#settleTimer);
    for (const timer of this.#backoffTimers) clearTimeout(timer);
    this.#unwatch();
    const all = this.supervisors;
    for (const supervisor of all) supervisor.exit();
    const done = Promise.all(all.map((supervisor) => supervisor.exited));
    if (await settlesWithin(done, options.timeoutMs)) return true;
    for (let round = 0; round < KILL_ROUNDS; round++) {
      for (const supervisor of all) supervisor.kill();
      if (await settlesWithin(done, KILL_INTERVAL_MS)) return false;
    }
    for (const supervisor of all) supervisor.close();
    return false;
  }

  #launch(slot: Slot): void {
    const { reactor, children, newSession, report } = this.#options;
    if (!this.#roomFor(slot)) return this.#starve(slot);
    const started = Date.now();
    const supervisor: Supervisor = new Supervisor(slot.name, {
      reactor,
      children,
      newSession,
      report,
      onFailure: (error) => this.#failed(slot, supervisor, { error, started }),
    });
    try {
      const dirFd = openAt(AT_FDCWD, `${this.dir}/${slot.name}`, {
        flags: DIRECTORY,
        what: "change to directory",
      });
      supervisor.open({ dirFd });
    } catch (error) {
      const message = error instanceof SupervisorFatal
        ? error.message
        : `runsv ${slot.name}: fatal: ${messageOf(error)}`;
      // Out of descriptors after all (others took them meanwhile): waits with the rest.
      if (OUT_OF_DESCRIPTORS.some((text) => message.endsWith(text))) return this.#starve(slot);
      if (message !== slot.lastFatal) report(message);
      slot.lastFatal = message;
      slot.retryAt = Date.now() + (this.#options.retryMs ?? 1000);
      this.#armRetry();
      return;
    }
    slot.lastFatal = undefined;
    slot.supervisor = supervisor;
    this.#starving.delete(slot.key);
    supervisor.exited.then(() => {
      if (this.#stopping || slot.supervisor !== supervisor) return;
      // Gone after `x`: runit's runsvdir starts runsv again.
      slot.supervisor = undefined;
      slot.retryAt = 0;
      if (this.#slots.get(slot.key) === slot) this.#requestScan();
    });
  }

  /**
   * One supervisor met an unexpected exception (it has stopped its processes
   * and let go of the directory): report it, and start a new one after a
   * backoff, as runsvdir restarts a runsv that died. The others are untouched.
   */
  #failed(
    slot: Slot,
    supervisor: Supervisor,
    how: { error: unknown; started: number },
  ): void {
    const { error, started } = how;
    const text = messageOf(error);
    this.#options.report(`runsvdir ${this.dir}: warning: ${slot.name}: ${text}`);
    this.#leaving.delete(supervisor);
    if (slot.supervisor !== supervisor || this.#stopping) return;
    slot.supervisor = undefined;
    if (Date.now() - started > FAILURE_FORGOTTEN_MS) slot.failures = 0;
    const backoff = Math.min(FAILURE_BACKOFF_MS * 2 ** slot.failures, FAILURE_BACKOFF_MAX_MS);
    slot.failures++;
    slot.retryAt = Date.now() + backoff;
    const timer = setTimeout(() => {
      this.#backoffTimers.delete(timer);
      this.scan();
    }, backoff);
    this.#backoffTimers.add(timer);
  }

  /** An entry went away: its service and log go down as on `x`. */
  #retire(supervisor: Supervisor): void {
    this.#leaving.add(supervisor);
    supervisor.exit();
    supervisor.exited.then(() => this.#leaving.delete(supervisor));
  }

  #armRetry(): void {
    if (this.#retryTimer !== undefined || this.#stopping) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.scan();
    }, this.#options.retryMs ?? 1000);
  }

  #requestScan(): void {
    if (this.#eventTimer !== undefined || this.#stopping) return;
    this.#eventTimer = setTimeout(() => {
      this.#eventTimer = undefined;
      this.scan();
    }, EVENT_DELAY_MS);
  }

  /** Report each warning once until the condition clears (runit repeats them each scan). */
  #warnOnce(warnings: string[]): void {
    const now = new Set(warnings);
    for (const warning of now) {
      if (!this.#warned.has(warning)) {
        this.#options.report(`runsvdir ${this.dir}: warning: ${warning}`);
      }
    }
    this.#warned = now;
  }

  /**
   * The periodic rescan, skipped when it cannot find anything new: the
   * directory is the same one, unmodified since well before the last scan
   * (mtime has whole seconds only), and holds no symlinks whose targets
   * could have changed behind its back.
   */
  #safetyNet(): void {
    const last = this.#lastScan;
    if (last && !last.links) {
      const now = this.#identify();
      const settled = now && now.key === last.key && now.mtimeSec === last.mtimeSec &&
        (now.mtimeSec + 2) * 1000 <= last.at;
      if (settled) return;
    }
    this.scan();
  }

  #identify(): { key: string; mtimeSec: number } | undefined {
    try {
      const stat = statAt(AT_FDCWD, this.dir);
      return stat && { key: `${stat.dev}:${stat.ino}`, mtimeSec: stat.mtimeSec };
    } catch {
      return undefined;
    }
  }

  /** (Re)watch the directory when it is new or was replaced; returns its identity. */
  #ensureWatch(warnings: string[]): { key: string; mtimeSec: number } | undefined {
    const dir = this.#identify();
    if (!dir) {
      // scanServices reports why the directory cannot be read.
      this.#unwatch();
      return undefined;
    }
    const key = dir.key;
    if (key === this.#watchedKey && this.#watchFd >= 0) return dir;
    this.#unwatch();
    let fd: number;
    try {
      fd = watchDirectories([this.dir]);
    } catch (error) {
      // SysError's own words: `unable to watch DIR: …`.
      warnings.push(messageOf(error));
      return dir;
    }
    this.#watchFd = fd;
    this.#watchedKey = key;
    this.#options.reactor.watch(fd, () => {
      drainChanges(fd);
      this.#requestScan();
    });
    return dir;
  }

  #unwatch(): void {
    const fd = this.#watchFd;
    this.#watchFd = -1;
    this.#watchedKey = undefined;
    if (fd < 0) return;
    this.#options.reactor.unwatch(fd);
    closeFd(fd);
  }
}

/** How a failure for want of descriptors ends its message. */
const OUT_OF_DESCRIPTORS = [errorText(Errno.EMFILE), errorText(Errno.ENFILE)];

/** Descriptors this process may still open (Infinity when that cannot be told). */
function freeDescriptors(): number {
  try {
    const limit = getLimit(RLIMIT.NOFILE).soft;
    if (limit > BigInt(Number.MAX_SAFE_INTEGER)) return Infinity;
    // The listing's own descriptor is counted too, and closed again.
    return Number(limit) - (listDir(AT_FDCWD, "/proc/self/fd").length - 1);
  } catch {
    return Infinity;
  }
}

/** True when `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
