/**
 * runit(8) and runit-init(8) as process 1 of a new PID and mount namespace
 * (`unshare --pid --fork --mount-proc --mount`), with a temp directory bound
 * over /etc/runit, a FIFO over /dev/console (read into console.log) and a
 * temp directory over /run. Stage scripts append to a trace file. Where it
 * can, each case runs Debian's /sbin/runit on the same layout at the same
 * time and compares the console lines. The real /etc/runit and the real
 * process 1 are never touched: every namespace command refuses to run unless
 * the bind took, and runit-init runs only inside a namespace.
 */

import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import {
  bin,
  exists,
  hasSysAdmin,
  readText,
  Sandbox,
  type Started,
  testUnless,
  waitUntil,
  within,
} from "./helpers.ts";
import { childrenOf, readProc } from "./proc.ts";
import { MARKER, namespaceCommand, UNSHARE } from "../scripts/demo_init.ts";
import { resolveInvocation } from "../src/cli/dispatch.ts";

const DEBIAN_RUNIT = "/sbin/runit";

function cannotBoot(): string | undefined {
  if (!hasSysAdmin()) return "namespaces and bind mounts need root with CAP_SYS_ADMIN";
  if (!exists("/usr/bin/unshare") || !exists("/usr/bin/nsenter")) {
    return "unshare and nsenter (util-linux) are not installed";
  }
  if (!exists("/etc/runit") || !exists("/dev/console")) {
    return "/etc/runit or /dev/console is missing to bind over";
  }
  return undefined;
}

function cannotCompare(): string | undefined {
  return cannotBoot() ?? (exists(DEBIAN_RUNIT) ? undefined : "Debian's /sbin/runit is missing");
}

/** Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, session]. */
function statOf(pid: number): [string, number, number, number] {
  const stat = readProc(`/proc/${pid}/stat`);
  const [state, ppid, pgrp, session] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [state, Number(ppid), Number(pgrp), Number(session)];
}

/** Whose runit: ours (started as runit-init) or Debian's (stopit in /run). */
type Flavor = "ours" | "debian";

/** The scripts of a stage layout; `trace` in them is replaced by the trace file's path. */
interface Layout {
  "1"?: string;
  "2"?: string;
  "3"?: string;
  ctrlaltdel?: string;
  /** Files to create in the layout, with their modes. */
  files?: Record<string, number>;
  /** Ours started by another name than runit-init (the multicall binary itself). */
  program?: string;
}

/** A runit booted as process 1 of its own namespace. */
class Booted implements AsyncDisposable {
  readonly dir: string;
  readonly flavor: Flavor;
  /** Process 1 of the namespace, by its pid here. */
  init = 0;
  #unshare: Started;
  #ended = false;

  private constructor(dir: string, flavor: Flavor, unshare: Started) {
    this.dir = dir;
    this.flavor = flavor;
    this.#unshare = unshare;
    unshare.child.status.finally(() => this.#ended = true);
  }

  /** Lay out `dir` (etc/, run/, the console FIFO) and boot `flavor`'s runit there. */
  static async boot(sb: Sandbox, name: string, flavor: Flavor, layout: Layout): Promise<Booted> {
    const dir = `${sb.dir}/${name}`;
    await Deno.mkdir(`${dir}/etc`, { recursive: true });
    await Deno.mkdir(`${dir}/run`);
    await Deno.writeTextFile(`${dir}/etc/${MARKER}`, "");
    const stages = ["1", "2", "3", "ctrlaltdel"] as const;
    for (const stage of stages) {
      const body = layout[stage] ?? (stage === "ctrlaltdel" ? undefined : `echo ${stage} >>trace`);
      if (body !== undefined) {
        await sb.script(`${dir}/etc/${stage}`, body.replaceAll("trace", `${dir}/trace`));
      }
    }
    for (const [file, mode] of Object.entries(layout.files ?? {})) {
      await Deno.writeTextFile(`${dir}/${file}`, "");
      await Deno.chmod(`${dir}/${file}`, mode);
    }
    const fifo = await sb.run("mkfifo", [`${dir}/console`]);
    assertEquals(fifo.code, 0, fifo.stderr);
    // Opened read-write: the reader never sees end of file, and runit's
    // non-blocking open for writing finds a reader.
    const reader = sb.start("sh", ["-c", "exec cat <>console >console.log"], { cwd: dir });
    await waitUntil(() => Deno.readLinkSync(`/proc/${reader.pid}/fd/0`) === `${dir}/console`, {
      what: "the console reader",
    });
    const program = flavor === "debian"
      ? DEBIAN_RUNIT
      : `${await bin()}/${layout.program ?? "runit-init"}`;
    const [command, ...args] = namespaceCommand(dir, [program]);
    const booted = new Booted(dir, flavor, sb.start(command, args, { cwd: dir }));
    booted.init = await waitUntil(() => {
      const [child] = readProc(`/proc/${booted.pid}/task/${booted.pid}/children`).trim().split(" ");
      if (/^NSpid:\s+\d+\s+1$/m.test(readProc(`/proc/${child}/status`))) return Number(child);
      // A layout that goes straight through may end before it is seen.
      return booted.#ended ? -1 : 0;
    }, { what: "process 1 of the namespace" });
    await booted.waitConsole(/: booting\.$/);
    return booted;
  }

  /** unshare's pid. */
  get pid(): number {
    return this.#unshare.pid;
  }

  /** The trace lines so far. */
  trace(): string[] {
    return readText(`${this.dir}/trace`).split("\n").filter((line) => line);
  }

  /** The complete console lines so far, runit's version normalised. */
  console(): string[] {
    const text = readText(`${this.dir}/console.log`).replace(/\$Id: [^$]*\$/g, "$Id$");
    return text.split("\n").slice(0, -1);
  }

  /** Wait until the trace has `line`. */
  async waitTrace(line: string): Promise<void> {
    await waitUntil(() => this.trace().includes(line), { what: `trace line ${line}` });
  }

  /** Wait until the console has a line matching `line`. */
  async waitConsole(line: string | RegExp, options: { timeout?: number } = {}): Promise<void> {
    const matches = (text: string) => typeof line === "string" ? text === line : line.test(text);
    await waitUntil(() => this.console().some(matches), {
      what: `console line ${line}`,
      timeout: options.timeout,
    });
  }

  /** Run a command in the namespace (its PID and mount namespaces). */
  async enter(sb: Sandbox, args: string[]): Promise<{ code: number; stderr: string }> {
    const pidNs = ["-t", `${this.init}`, "-p", "-m"];
    return await sb.run("nsenter", [...pidNs, ...args], { timeout: 20_000 });
  }

  /** Ask process 1 to halt: runit-init 0 for ours, stopit in /run for Debian's. */
  async halt(sb: Sandbox): Promise<void> {
    const result = this.flavor === "ours"
      ? await this.enter(sb, [`${await bin()}/runit-init`, "0"])
      : await this.enter(sb, [
        "sh",
        "-c",
        "touch /run/runit.stopit && chmod 100 /run/runit.stopit && kill -CONT 1",
      ]);
    assertEquals(result.code, 0, result.stderr);
  }

  /** The signal (or exit code) that ended the namespace, as unshare passes it on. */
  async ended(): Promise<string> {
    const status = await within(this.#unshare.child.status, {
      what: "the namespace to end",
      timeout: 20_000,
    });
    return status.signal ?? `exit ${status.code}`;
  }

  /** KILL unshare if still running (with --kill-child, its process 1 dies, and the namespace). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#ended) this.#unshare.child.kill("SIGKILL");
    await this.#unshare.done.catch(() => {});
  }
}

/** Our console lines for a boot, a stage 2 that ends when told to, and a halt. */
const HALTED = [
  "- runit: $Id$: booting.",
  "- runit: enter stage: /etc/runit/1",
  "- runit: leave stage: /etc/runit/1",
  "- runit: enter stage: /etc/runit/2",
  "- runit: leave stage: /etc/runit/2",
  "- runit: enter stage: /etc/runit/3",
  "- runit: leave stage: /etc/runit/3",
  "- runit: sending KILL signal to all processes...",
  "- runit: power off...",
];

/** Run `scenario` with ours and, when `compare`, with Debian's runit at the same time. */
async function both<T>(
  compare: boolean,
  scenario: (flavor: Flavor) => Promise<T>,
): Promise<{ ours: T; debian?: T }> {
  const [ours, debian] = await Promise.all([
    scenario("ours"),
    compare ? scenario("debian") : Promise.resolve(undefined),
  ]);
  return { ours, debian };
}

testUnless(
  "runit-init as process 1: stages 1, 2, 3 in order, a service's finish before 3; runit-init 0 halts (SIGINT), as Debian's",
  cannotBoot,
  async () => {
    await using sb = await Sandbox.create();
    const runsvdir = `${await bin()}/runsvdir`;
    const { ours, debian } = await both(cannotCompare() === undefined, async (flavor) => {
      const service = await sb.service(`${flavor}-service/web`, {
        run: `echo run >>${sb.dir}/${flavor}/trace\nexec sleep 1000`,
        finish: `echo finish >>${sb.dir}/${flavor}/trace`,
      });
      await using booted = await Booted.boot(sb, flavor, flavor, {
        // Stage 1's standard input is the console (runit's "full control").
        "1": "echo 1 >>trace\nreadlink /proc/self/fd/0 >>trace",
        "2": `echo 2 >>trace\nexec ${runsvdir} -P ${service.slice(0, service.lastIndexOf("/"))}`,
      });
      await booted.waitTrace("run");
      if (flavor === "ours") {
        // Stage 1 ran in process 1's session; stage 2 leads a session of its own.
        assertEquals(statOf(booted.init)[3], booted.init, "process 1 leads its session");
        const [stage2] = (await childrenOf(booted.init)).map((child) => child.pid);
        const [, , group, session] = statOf(stage2);
        assertEquals([group, session], [stage2, stage2], "stage 2 leads its session and group");
      }
      await booted.halt(sb);
      return {
        signal: await booted.ended(),
        trace: booted.trace(),
        console: booted.console(),
        stopit: flavor === "ours" ? Deno.statSync(`${booted.dir}/etc/stopit`).mode : undefined,
      };
    });
    assertEquals(ours.signal, "SIGINT");
    assertEquals(ours.trace, ["1", "/dev/console", "2", "run", "finish", "3"]);
    assertEquals(ours.console, HALTED);
    // runit-init set the owner's execute bit; runit cleared the file's mode when it acted.
    assertEquals(ours.stopit! & 0o777, 0);
    if (debian) {
      assertEquals(debian.signal, "SIGINT");
      assertEquals(ours.console, debian.console);
      assertEquals(ours.trace, debian.trace);
    }
  },
);

testUnless("runit-init 6: reboot, the namespace ends by SIGHUP", cannotBoot, async () => {
  await using sb = await Sandbox.create();
  // The multicall binary itself as process 1 (init=/opt/runit/bin/runit) is runit too.
  await using booted = await Booted.boot(sb, "ns", "ours", {
    "2": "exec sleep 1000",
    program: "runit",
  });
  await booted.waitConsole("- runit: enter stage: /etc/runit/2");
  const asked = await booted.enter(sb, [`${await bin()}/runit-init`, "6"]);
  assertEquals(asked.code, 0, asked.stderr);
  assertEquals(await booted.ended(), "SIGHUP");
  assertEquals(Deno.statSync(`${booted.dir}/etc/reboot`).mode! & 0o777, 0o100);
  assertEquals(booted.console().slice(-2), [
    "- runit: sending KILL signal to all processes...",
    "- runit: system reboot.",
  ]);
});

testUnless(
  "runit: stage 1 exiting 100 skips stage 2, as Debian's",
  cannotBoot,
  async () => {
    await using sb = await Sandbox.create();
    const { ours, debian } = await both(cannotCompare() === undefined, async (flavor) => {
      await using booted = await Booted.boot(sb, flavor, flavor, {
        "1": "echo 1 >>trace\nexit 100",
      });
      return { signal: await booted.ended(), trace: booted.trace(), console: booted.console() };
    });
    assertEquals(ours.signal, "SIGINT");
    assertEquals(ours.trace, ["1", "3"]);
    assertEquals(ours.console, [
      "- runit: $Id$: booting.",
      "- runit: enter stage: /etc/runit/1",
      "- runit: warning: child failed: /etc/runit/1",
      "- runit: leave stage: /etc/runit/1",
      "- runit: warning: skipping stage 2...",
      ...HALTED.slice(5),
    ]);
    if (debian) assertEquals(ours.console, debian.console);
  },
);

testUnless(
  "runit: stage 2 exiting 111 loses its process group and is restarted after 5 s, as Debian's",
  cannotBoot,
  async () => {
    await using sb = await Sandbox.create();
    const { ours, debian } = await both(cannotCompare() === undefined, async (flavor) => {
      const dir = `${sb.dir}/${flavor}`;
      const group = `${dir}/group`;
      await Deno.mkdir(group, { recursive: true });
      await using booted = await Booted.boot(sb, flavor, flavor, {
        "2": [
          `if [ -e ${dir}/again ]; then echo 2b >>trace; exec sleep 1000; fi`,
          `touch ${dir}/again`,
          // A process of stage 2's group, recognisable by its directory.
          `(cd ${group} && exec sleep 1000) &`,
          "echo 2a >>trace",
          `while [ ! -e ${dir}/go ]; do sleep 0.05; done`,
          "exit 111",
        ].join("\n"),
      });
      await booted.waitTrace("2a");
      const member = await waitUntil(() => processesIn(group)[0], { what: "the group member" });
      await Deno.writeTextFile(`${dir}/go`, "");
      await booted.waitConsole("- runit: warning: killing all processes in stage 2...");
      await waitUntil(() => !processesIn(group).includes(member), { what: "the member killed" });
      await booted.waitTrace("2b");
      await booted.halt(sb);
      return { signal: await booted.ended(), trace: booted.trace(), console: booted.console() };
    });
    assertEquals(ours.signal, "SIGINT");
    assertEquals(ours.trace, ["1", "2a", "2b", "3"]);
    assertEquals(ours.console, [
      ...HALTED.slice(0, 4),
      "- runit: warning: child failed: /etc/runit/2",
      "- runit: warning: killing all processes in stage 2...",
      "- runit: warning: restarting.",
      ...HALTED.slice(3),
    ]);
    if (debian) assertEquals(ours.console, debian.console);
  },
);

/** pids (here) of the processes whose working directory is `dir`. */
function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      if (Deno.readLinkSync(`/proc/${entry.name}/cwd`) === dir) found.push(Number(entry.name));
    } catch {
      // Gone.
    }
  }
  return found;
}

testUnless(
  "runit: ctrl-alt-del (SIGINT to process 1) runs ctrlaltdel, then shuts down, as Debian's",
  cannotBoot,
  async () => {
    await using sb = await Sandbox.create();
    const { ours, debian } = await both(cannotCompare() === undefined, async (flavor) => {
      await using booted = await Booted.boot(sb, flavor, flavor, {
        "2": "echo 2 >>trace\nexec sleep 1000",
        // Both stopit files: ours reads /etc/runit's, Debian's /run's (each bound to a temp dir).
        ctrlaltdel: "echo ctrlaltdel >>trace\n" +
          "touch /etc/runit/stopit /run/runit.stopit\n" +
          "chmod 100 /etc/runit/stopit /run/runit.stopit",
      });
      await booted.waitTrace("2");
      Deno.kill(booted.init, "SIGINT");
      return { signal: await booted.ended(), trace: booted.trace(), console: booted.console() };
    });
    assertEquals(ours.signal, "SIGINT");
    assertEquals(ours.trace, ["1", "2", "ctrlaltdel", "3"]);
    assertEquals(ours.console, [
      ...HALTED.slice(0, 4),
      "- runit: ctrl-alt-del request...",
      "- runit: enter stage: /etc/runit/ctrlaltdel",
      "- runit: leave stage: /etc/runit/ctrlaltdel",
      ...HALTED.slice(4),
    ]);
    if (debian) assertEquals(ours.console, debian.console);
  },
);

testUnless(
  "runit: a container's TERM halts (even with reboot set); a stage 2 ignoring TERM is KILLed after 5 s",
  cannotBoot,
  async () => {
    await using sb = await Sandbox.create();
    await using booted = await Booted.boot(sb, "ns", "ours", {
      "2": "trap '' TERM\necho 2 >>trace\nwhile :; do sleep 0.1; done",
      files: { "etc/reboot": 0o100 },
    });
    await booted.waitTrace("2");
    Deno.kill(booted.init, "SIGTERM");
    assertEquals(await booted.ended(), "SIGINT");
    assertEquals(booted.trace(), ["1", "2", "3"]);
    assertEquals(booted.console(), [
      ...HALTED.slice(0, 4),
      "- runit: TERM: halt request...",
      "- runit: warning: stage 2 not terminated, sending sigkill...",
      ...HALTED.slice(4),
    ]);
  },
);

testUnless(
  "runit: a container's TERM during stage 1 skips stage 2; CONT there only warns",
  cannotBoot,
  async () => {
    await using sb = await Sandbox.create();
    const go = `${sb.dir}/ns/go`;
    await using booted = await Booted.boot(sb, "ns", "ours", {
      "1": `echo 1 >>trace\nwhile [ ! -e ${go} ]; do sleep 0.05; done`,
    });
    await booted.waitTrace("1");
    Deno.kill(booted.init, "SIGCONT");
    await booted.waitConsole("- runit: warning: signals only work in stage 2.");
    Deno.kill(booted.init, "SIGTERM");
    await booted.waitConsole("- runit: TERM: halt request...");
    await Deno.writeTextFile(go, "");
    assertEquals(await booted.ended(), "SIGINT");
    assertEquals(booted.trace(), ["1", "3"]);
    assertEquals(booted.console(), [
      ...HALTED.slice(0, 2),
      "- runit: warning: signals only work in stage 2.",
      "- runit: TERM: halt request...",
      "- runit: leave stage: /etc/runit/1",
      "- runit: warning: skipping stage 2...",
      ...HALTED.slice(5),
    ]);
  },
);

testUnless(
  "runit: orphans are reaped at once (no zombie under process 1)",
  cannotBoot,
  async () => {
    await using sb = await Sandbox.create();
    await using booted = await Booted.boot(sb, "ns", "ours", {
      "2": "(sleep 2 & sleep 2 & sleep 2 &)\necho orphaned >>trace\nexec sleep 1000",
    });
    await booted.waitTrace("orphaned");
    // The three sleeps' parent has exited: process 1 has inherited them.
    const children = (await childrenOf(booted.init)).map((child) => child.pid);
    assertEquals(children.length, 4, `children of process 1: ${children}`);
    const [stage2] = children.filter((pid) => statOf(pid)[2] === pid);
    await waitUntil(async () => {
      const left = await childrenOf(booted.init);
      return left.length === 1 && left[0].pid === stage2;
    }, { what: "the orphans reaped", timeout: 5000 });
    await booted.halt(sb);
    assertEquals(await booted.ended(), "SIGINT");
  },
);

testUnless(
  "runit: sync(2) before power-off unless /etc/runit/nosync exists; KILL to all first",
  () => cannotBoot() ?? (exists("/usr/bin/strace") ? undefined : "strace is not installed"),
  async () => {
    await using sb = await Sandbox.create();
    const traced = async (name: string, files: Record<string, number>) => {
      await using booted = await Booted.boot(sb, name, "ours", { "2": "exec sleep 1000", files });
      await booted.waitConsole("- runit: enter stage: /etc/runit/2");
      const out = `${booted.dir}/strace.out`;
      // Process 1's main thread, where the FFI calls run.
      sb.start("strace", ["-p", `${booted.init}`, "-e", "trace=sync,kill,reboot", "-o", out]);
      await waitUntil(() => /^TracerPid:\s+[1-9]/m.test(readProc(`/proc/${booted.init}/status`)), {
        what: "strace attached",
      });
      await booted.halt(sb);
      assertEquals(await booted.ended(), "SIGINT");
      await waitUntil(() => readText(out).includes("+++"), { what: "strace's last line" });
      return readText(out).split("\n").map((line) => line.replace(/\s+=.*$/, ""));
    };
    const [synced, nosync] = await Promise.all([
      traced("synced", {}),
      traced("nosync", { "etc/nosync": 0o644 }),
    ]);
    const calls = (lines: string[]) =>
      lines.filter((line) => /^(sync|kill\(-1|reboot)/.test(line)).map((line) => line.slice(0, 4));
    assertEquals(calls(synced), ["kill", "sync", "rebo"], synced.join("\n"));
    assertEquals(calls(nosync), ["kill", "rebo"], nosync.join("\n"));
    assertMatch(synced.join("\n"), /reboot\(.*POWER_OFF/);
  },
);

testUnless(
  "runit-init not as process 1: 0 and 6 set stopit and reboot; failures exit 111; usage exits 0",
  cannotBoot,
  async () => {
    await using sb = await Sandbox.create();
    const init = `${await bin()}/runit-init`;
    for (const dir of ["etc", "ro"]) {
      await Deno.mkdir(`${sb.dir}/${dir}`);
      await Deno.writeTextFile(`${sb.dir}/${dir}/${MARKER}`, "");
    }
    await Deno.writeTextFile(`${sb.dir}/etc/reboot`, "");
    await Deno.chmod(`${sb.dir}/etc/reboot`, 0o100);
    // sh is process 1 here: runit-init's CONT goes to it, which ignores it.
    const script = [
      "set -e",
      `mount --bind ${sb.dir}/etc /etc/runit`,
      `test -e /etc/runit/${MARKER}`,
      "modes() { echo $(stat -c %a /etc/runit/stopit /etc/runit/reboot); }",
      `${init} 0; modes`,
      `${init} 6; modes`,
      `${init} 0abc; modes`,
      `${init}; echo usage $?`,
      `${init} x; echo usage $?`,
      `${init} -V; echo usage $?`,
      `mount --bind ${sb.dir}/ro /etc/runit`,
      "mount -o remount,ro,bind /etc/runit",
      `test -e /etc/runit/${MARKER}`,
      `${init} 6 || echo failed $?`,
    ].join("\n");
    const [unshare, ...args] = UNSHARE;
    const result = await sb.run(unshare, [...args, "sh", "-c", script]);
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stdout, "100 0\n100 100\n100 0\nusage 0\nusage 0\nusage 0\nfailed 111\n");
    const usage = `usage: ${init} 0|6\n\n`;
    assertEquals(
      result.stderr,
      `${usage}${usage}$Id: runit-deno 0.1.0 $\n\n${usage}` +
        "init: fatal: unable to create /etc/runit/stopit: read-only file system\n",
    );
  },
);

testUnless(
  "runit not as process 1: runit's fatal message and 111, as Debian's",
  () => exists(DEBIAN_RUNIT) ? undefined : "Debian's /sbin/runit is missing",
  async () => {
    await using sb = await Sandbox.create();
    // The multicall name is only runit(8) as process 1: name it explicitly here.
    const ours = await sb.run(`${await bin()}/runit`, ["runit"]);
    const theirs = await sb.run(DEBIAN_RUNIT, []);
    assertEquals(ours, {
      code: 111,
      stdout: "",
      stderr: "- runit: fatal: must be run as process no 1.\n",
    });
    assertEquals(ours, theirs);
  },
);

Deno.test("dispatch: the multicall binary as process 1 is runit(8), otherwise the applet list", () => {
  const options = { readLink: () => undefined, path: "" };
  assertEquals(resolveInvocation("/opt/runit/bin/runit", [], { ...options, pid: 1 }), {
    kind: "applet",
    applet: "runit",
    program: "runit",
    argv0: "/opt/runit/bin/runit",
    args: [],
  });
  assertEquals(resolveInvocation("/opt/runit/bin/runit", [], { ...options, pid: 42 }), {
    kind: "list",
  });
  const viaInit = resolveInvocation("/sbin/init", ["0"], {
    readLink: (path) => path === "/sbin/init" ? "/opt/runit/bin/runit-init" : undefined,
    pid: 42,
  });
  assertOk(viaInit.kind === "applet" && viaInit.applet === "runit-init");
});

testUnless("demo:init boots a stage layout in a namespace and halts it", cannotBoot, async () => {
  // Through the sandbox for its deadline: a demo that does not halt is KILLed.
  await using sb = await Sandbox.create();
  const result = await sb.run(Deno.execPath(), ["task", "demo:init"], {
    cwd: new URL("..", import.meta.url).pathname,
  });
  const output = result.stdout;
  assertEquals(result.code, 0, output + result.stderr);
  assertMatch(output, /^run: hello: \(pid \d+\) \d+s$/m);
  assertMatch(output, /^console\| hello: finished$/m);
  assertMatch(output, /ended by SIGINT/);
  const root = /SVDIR=(\S+)\/service/.exec(output)![1];
  assertEquals(exists(root), false, "the demo removed its temp directory");
});
