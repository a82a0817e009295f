/**
 * runit as process 1, ours against Debian's /sbin/runit in one run (not a
 * test; root and util-linux's unshare and nsenter needed). Each side boots
 * the same stage layout as process 1 of a new PID and mount namespace
 * (scripts/demo_init.ts's `namespaceCommand`: a temp dir bound over
 * /etc/runit, /dev/console and /run): stage 1 exits 0, stage 2 marks that it
 * runs and waits. Per boot it measures:
 *
 * - boot: from starting unshare to stage 2 running;
 * - process 1's PSS and private memory in stage 2 (smaps_rollup);
 * - halt: from CONT with an executable stopit file (what `runit-init 0`
 *   does; Debian's package keeps it in /run, upstream in /etc/runit) to the
 *   namespace's end (by SIGINT, the kernel's word for a halt there). Debian
 *   ships runit-init in another package, so both sides are asked directly.
 *
 * Run: deno task bench:init [--boots 5]
 *
 * @module
 */

import { install } from "../scripts/install.ts";
import { MARKER, namespaceCommand } from "../scripts/demo_init.ts";
import { childrenOf, median, procFields, ratio, sleep, waitUntil, writeScript } from "./common.ts";

interface Side {
  name: string;
  init: string;
  /** Where its stopit file is, under the boot's temp dir (bound over /etc/runit and /run). */
  stopit: string;
}

interface Boot {
  bootMs: number;
  pssKb: number;
  privateKb: number;
  haltMs: number;
}

async function boot(side: Side, root: string): Promise<Boot> {
  await Deno.mkdir(`${root}/etc`, { recursive: true });
  await Deno.mkdir(`${root}/run`, { recursive: true });
  await Deno.writeTextFile(`${root}/etc/${MARKER}`, "");
  await Deno.writeTextFile(`${root}/console`, "");
  const running = `${root}/stage2`;
  await writeScript(`${root}/etc/1`, "exit 0");
  await writeScript(`${root}/etc/2`, `: > ${running}\nexec sleep 100000`);
  await writeScript(`${root}/etc/3`, "exit 0");
  const [command, ...args] = namespaceCommand(root, [side.init]);
  const started = performance.now();
  const namespace = new Deno.Command(command, { args, stdin: "null", stderr: "null" }).spawn();
  try {
    await waitUntil(
      () => {
        try {
          Deno.statSync(running);
          return true;
        } catch {
          return false;
        }
      },
      `${side.name}: stage 2`,
      { timeoutMs: 20_000, intervalMs: 2 },
    );
    const bootMs = performance.now() - started;
    const [init] = childrenOf(namespace.pid);
    // Let stage 2's start settle before reading memory.
    await sleep(500);
    const rollup = procFields(`/proc/${init}/smaps_rollup`);
    const pssKb = rollup("Pss");
    const privateKb = rollup("Private_Clean") + rollup("Private_Dirty");
    await Deno.writeTextFile(`${root}/${side.stopit}`, "", { mode: 0o100 });
    await Deno.chmod(`${root}/${side.stopit}`, 0o100);
    const asked = performance.now();
    Deno.kill(init, "SIGCONT");
    const status = await namespace.status;
    const haltMs = performance.now() - asked;
    if (status.signal !== "SIGINT") {
      throw new Error(`${side.name}: the namespace ended by ${status.signal ?? status.code}`);
    }
    return { bootMs, pssKb, privateKb, haltMs };
  } finally {
    try {
      namespace.kill("SIGKILL");
    } catch {
      // Already ended.
    }
    await namespace.status;
  }
}

function row(name: string, boots: Boot[]): Record<keyof Boot, number> {
  const of = (key: keyof Boot) => median(boots.map((b) => b[key]));
  const result = {
    bootMs: of("bootMs"),
    pssKb: of("pssKb"),
    privateKb: of("privateKb"),
    haltMs: of("haltMs"),
  };
  console.log(
    `${name.padEnd(6)} | boot ${result.bootMs.toFixed(1)} ms | PSS ${
      (result.pssKb / 1024).toFixed(2)
    } MB | private ${(result.privateKb / 1024).toFixed(2)} MB | halt ${
      result.haltMs.toFixed(1)
    } ms`,
  );
  return result;
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--boots");
  const boots = at >= 0 ? Number(Deno.args[at + 1]) : 5;
  const work = await Deno.realPath(await Deno.makeTempDir({ prefix: "runit-bench-init-" }));
  try {
    const bin = (await install(`${work}/prefix`)).replace(/\/runit$/, "");
    const sides: Side[] = [
      { name: "ours", init: `${bin}/runit-init`, stopit: "etc/stopit" },
      { name: "runit", init: "/sbin/runit", stopit: "run/runit.stopit" },
    ];
    const results = new Map<string, Boot[]>(sides.map((side) => [side.name, []]));
    // Interleaved, so that both sides see the same machine.
    for (let n = 0; n < boots; n++) {
      for (const side of sides) {
        const root = `${work}/${side.name}-${n}`;
        results.get(side.name)!.push(await boot(side, root));
      }
    }
    console.log(`median of ${boots} boots each, stage 2 = sleep`);
    const ours = row("ours", results.get("ours")!);
    const theirs = row("runit", results.get("runit")!);
    console.log(
      `ratio ours/runit: boot ${ratio(ours.bootMs, theirs.bootMs)}, PSS ${
        ratio(ours.pssKb, theirs.pssKb)
      }, halt ${ratio(ours.haltMs, theirs.haltMs)}`,
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
