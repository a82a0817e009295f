/**
 * Ignored signals are passed on to services, as by runit: runsv and runsvdir
 * started with signals ignored, ours and Debian's side by side, each service
 * reporting the SigIgn it was started with.
 */

import { assertEquals } from "./assert.ts";
import {
  alive,
  bin,
  hasDebianRunit,
  readText,
  Sandbox,
  waitRunning,
  waitUntil,
} from "./helpers.ts";

const ignore = !hasDebianRunit();
const SIGPIPE_BIT = 1n << 12n;
/**
 * Signals 32 and 33, glibc's own: Deno.Command starts the test's sh with them
 * ignored (glibc's posix_spawn does that unless told otherwise), runit passes
 * that on, and no tool here can reset them (glibc refuses them). Ours sets
 * them to the default, which glibc programs never notice (it installs its own
 * handlers). Compared without them; ours must have them at the default.
 */
const GLIBC_INTERNAL = (1n << 31n) | (1n << 32n);

/** Ours and runit's masks, glibc's internal signals aside (after checking ours has none). */
function comparable([ours, runit]: bigint[]): bigint[] {
  assertEquals(ours & GLIBC_INTERNAL, 0n);
  return [ours, runit & ~GLIBC_INTERNAL];
}

/** A service whose ./run writes its SigIgn to `report`, then sleeps. */
async function reporter(sb: Sandbox, dir: string, report: string): Promise<string> {
  return await sb.service(dir, {
    run: `grep '^SigIgn:' /proc/self/status > ${report}.new && mv ${report}.new ${report}\n` +
      "exec sleep 1000",
  });
}

/** The SigIgn mask in `report`, once written. */
async function sigIgn(report: string): Promise<bigint> {
  const line = await waitUntil(() => readText(report), { what: `${report} written` });
  return BigInt(`0x${line.split(/\s+/)[1]}`);
}

/** Start `program args` from sh with `signals` ignored (trap ''). */
function startIgnoring(sb: Sandbox, signals: string, program: string, args: string[]) {
  const quoted = args.map((arg) => `'${arg}'`).join(" ");
  return sb.start("/bin/sh", ["-c", `trap '' ${signals}; exec ${program} ${quoted}`]);
}

/**
 * The SigIgn of a service under ours and under Debian's `applet` (runsv or
 * runsvdir), each started with `signals` ignored: [ours, runit].
 */
async function masksUnder(sb: Sandbox, applet: "runsv" | "runsvdir", signals: string) {
  const masks: bigint[] = [];
  for (
    const [who, program] of [["ours", `${await bin()}/${applet}`], ["runit", `/usr/bin/${applet}`]]
  ) {
    const service = applet === "runsv" ? `${who}/web` : `${who}/service/web`;
    const dir = await reporter(sb, service, `${sb.dir}/${who}.sigign`);
    const target = applet === "runsv" ? dir : `${sb.dir}/${who}/service`;
    startIgnoring(sb, signals, program, [target]);
    await waitRunning(dir);
    masks.push(await sigIgn(`${sb.dir}/${who}.sigign`));
  }
  return masks;
}

Deno.test({
  name: "signals: runsv passes on INT QUIT USR1 ignored (0x206), as Debian's runsv",
  ignore,
  fn: async () => {
    await using sb = await Sandbox.create();
    const masks = await masksUnder(sb, "runsv", "INT QUIT USR1");
    assertEquals(comparable(masks), [0x206n, 0x206n]);
  },
});

Deno.test({
  name: "signals: runsv resets what it catches (TERM, CHLD), passes on HUP; PIPE is never passed",
  ignore,
  fn: async () => {
    await using sb = await Sandbox.create();
    const masks = await masksUnder(sb, "runsv", "HUP TERM CHLD PIPE USR2");
    const [ours, runit] = comparable(masks);
    // runit: HUP, PIPE and USR2 stay ignored; TERM and CHLD (caught by runsv) do not.
    assertEquals(runit, (1n << 0n) | SIGPIPE_BIT | (1n << 11n));
    // Ours: the same but for SIGPIPE, which Deno ignores itself (the documented exception).
    assertEquals(ours, runit & ~SIGPIPE_BIT);
  },
});

Deno.test({
  name: "signals: runsvdir passes on INT QUIT USR1 and resets HUP, as Debian's runsvdir",
  ignore,
  fn: async () => {
    await using sb = await Sandbox.create();
    const masks = await masksUnder(sb, "runsvdir", "HUP INT QUIT USR1");
    // runsvdir catches HUP (and TERM), so its runsv, and so the service, get the default.
    assertEquals(comparable(masks), [0x206n, 0x206n]);
  },
});

Deno.test("signals: nothing ignored when nothing was (Deno's own SIGPIPE is not passed on)", async () => {
  await using sb = await Sandbox.create();
  const dir = await reporter(sb, "service/web", `${sb.dir}/ours.sigign`);
  sb.start("/bin/sh", [
    "-c",
    `trap - INT QUIT; exec ${await bin()}/runsvdir -P '${sb.dir}/service'`,
  ]);
  await waitRunning(dir);
  assertEquals(await sigIgn(`${sb.dir}/ours.sigign`), 0n);
});

Deno.test({
  name: "signals: runsv with HUP and INT ignored survives them, as Debian's runsv (nohup)",
  ignore,
  fn: async () => {
    await using sb = await Sandbox.create();
    for (const [who, runsv] of [["ours", `${await bin()}/runsv`], ["runit", "/usr/bin/runsv"]]) {
      const dir = await reporter(sb, `${who}/web`, `${sb.dir}/${who}.sigign`);
      const started = startIgnoring(sb, "HUP INT", runsv, [dir]);
      const pid = await waitRunning(dir);
      // Deno's first signal listener installs handlers for HUP and INT that would end us.
      Deno.kill(started.pid, "SIGHUP");
      Deno.kill(started.pid, "SIGINT");
      // Still supervising after both: it takes the service down on request.
      const down = await sb.run("/usr/bin/sv", ["d", dir]);
      assertEquals(down.code, 0, `${who}: ${down.stdout}${down.stderr}`);
      await waitUntil(() => readText(`${dir}/supervise/stat`) === "down\n", {
        what: `${who} to take the service down`,
      });
      assertEquals(alive(started.pid) && !alive(pid), true, who);
    }
  },
});

Deno.test("signals: catchSignal keeps an inherited ignore until it listens, and after", async () => {
  await using sb = await Sandbox.create();
  const script = `${sb.dir}/child.ts`;
  const sys = new URL("../src/sys/mod.ts", import.meta.url).href;
  await Deno.writeTextFile(
    script,
    `import { catchSignal, uncatchSignal } from "${sys}";
const ignored = () => /^SigIgn:\\s+(\\S+)/m.exec(Deno.readTextFileSync("/proc/self/status"))![1];
const seen: string[] = [];
const term = () => {};
catchSignal("SIGTERM", term);
seen.push(ignored());
const { promise, resolve } = Promise.withResolvers<void>();
const hup = () => resolve();
catchSignal("SIGHUP", hup);
seen.push(ignored());
Deno.kill(Deno.pid, "SIGHUP");
await promise;
uncatchSignal("SIGHUP", hup);
uncatchSignal("SIGTERM", term);
seen.push(ignored());
console.log(seen.join(" "));
`,
  );
  const result = await sb.run("/bin/sh", [
    "-c",
    `trap '' HUP; exec '${Deno.execPath()}' run --allow-all '${script}'`,
  ]);
  assertEquals(result.stderr, "");
  // HUP (bit 0) ignored beside Deno's PIPE (bit 12), caught while listened to, then ignored again.
  const [first, second, third] = result.stdout.trim().split(" ").map((hex) => BigInt(`0x${hex}`));
  assertEquals([first & 0x1001n, second & 0x1001n, third & 0x1001n], [0x1001n, 0x1000n, 0x1001n]);
});
