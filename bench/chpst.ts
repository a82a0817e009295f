/**
 * How long from `chpst … prog` to prog running, ours against Debian's
 * /usr/bin/chpst, on the same work in one run. prog is /bin/true, so a run
 * is start-up, the state changes, the exec and true's own few hundred
 * microseconds (the same for both). Also measured: our start-up alone
 * (`chpst -V`, answered by the dispatcher before the chpst module loads),
 * so that chpst's own work after start-up can be told apart.
 *
 * `deno run --allow-all bench/chpst.ts [runs]`
 *
 * @module
 */

import { install } from "../scripts/install.ts";
import { AT_FDCWD, O, openAt, spawn, waitFor } from "../src/sys/mod.ts";
import { median } from "./common.ts";

const RUNS = Number(Deno.args[0] ?? 40);

const devNull = openAt(AT_FDCWD, "/dev/null", { flags: O.WRONLY | O.CLOEXEC });

async function timed(argv: string[]): Promise<number> {
  const start = performance.now();
  const status = await waitFor(spawn(argv, { dup: [[1, devNull]] }));
  const elapsed = performance.now() - start;
  if (status !== 0) throw new Error(`${argv.join(" ")}: wait status ${status}`);
  return elapsed;
}

if (import.meta.main) {
  const prefix = await Deno.makeTempDir({ prefix: "runit-bench-" });
  try {
    await install(prefix);
    const ours = `${prefix}/bin/chpst`;
    const env = `${prefix}/env`;
    await Deno.mkdir(env);
    await Deno.writeTextFile(`${env}/GREETING`, "hello\n");
    await Deno.writeTextFile(`${env}/REMOVED`, "");
    // The lock is taken after -u (runit's order): nobody must reach it.
    await Deno.chmod(prefix, 0o755);
    await Deno.mkdir(`${prefix}/locks`);
    await Deno.chmod(`${prefix}/locks`, 0o777);
    const root = Deno.uid() === 0;
    const work = [
      ...(root ? ["-u", "nobody:nogroup", "-n", "1"] : []),
      "-e",
      env,
      "-o",
      "200",
      "-l",
      `${prefix}/locks/lock`,
      "/bin/true",
    ];
    const cases: Record<string, string[]> = {
      "debian chpst": ["/usr/bin/chpst", ...work],
      "our chpst": [ours, ...work],
      "our start-up only (chpst -V)": [ours, "-V"],
      "/bin/true alone": ["/bin/true"],
    };
    const samples: Record<string, number[]> = Object.fromEntries(
      Object.keys(cases).map((name) => [name, []]),
    );
    for (const argv of Object.values(cases)) await timed(argv); // warm caches
    for (let run = 0; run < RUNS; run++) {
      for (const [name, argv] of Object.entries(cases)) samples[name].push(await timed(argv));
    }
    const m = Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, median(s)]));
    console.log(`chpst ${work.join(" ")}  (${RUNS} runs each, medians)`);
    for (const [name, value] of Object.entries(m)) {
      console.log(`  ${name.padEnd(30)} ${value.toFixed(2)} ms`);
    }
    const debian = m["debian chpst"];
    const ourRun = m["our chpst"];
    const startup = m["our start-up only (chpst -V)"];
    console.log(`  ratio ours/debian              ${(ourRun / debian).toFixed(1)}x`);
    console.log(
      `  deno start-up share            ${(startup / ourRun * 100).toFixed(0)}% of ours`,
    );
    console.log(
      `  chpst's own work after start-up ~${(ourRun - startup).toFixed(2)} ms` +
        " (module load, state changes, exec)",
    );
  } finally {
    await Deno.remove(prefix, { recursive: true });
  }
}
