/**
 * svlogd throughput, ours against Debian's /usr/bin/svlogd on the same
 * 200 MB of typical log lines piped in by cat, with `-tt` and without
 * stamps, rotating at 100 MB. Prints MB/s, the ratio and peak RSS.
 *
 *   deno run --allow-read --allow-write --allow-run --allow-env bench/svlogd.ts [MB]
 *
 * @module
 */

import { install } from "../scripts/install.ts";

const DEBIAN = "/usr/bin/svlogd";
const megabytes = Number(Deno.args[0] ?? 200);
const ROUNDS = 2;

/** Write `megabytes` of web-server-like lines to `path`. */
function generate(path: string): number {
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const methods = ["GET", "POST", "PUT", "DELETE"];
  let total = 0;
  let i = 0;
  while (total < megabytes * 1024 * 1024) {
    const lines: string[] = [];
    for (let k = 0; k < 10000; k++, i++) {
      lines.push(
        `web[${1000 + i % 5000}]: info: ${methods[i % 4]} /api/v1/items/${i * 7919 % 100000} ` +
          `status=${i % 17 ? 200 : 500} bytes=${i * 31 % 65536} duration=${i % 997}ms ` +
          `client=10.${i % 256}.${(i >> 8) % 256}.${i % 7}\n`,
      );
    }
    const bytes = encoder.encode(lines.join(""));
    file.writeSync(bytes);
    total += bytes.length;
  }
  file.close();
  return total;
}

/** GNU time reports a child's peak RSS; /proc/PID needs --allow-all in Deno. */
const TIME = (() => {
  try {
    Deno.statSync("/usr/bin/time");
    return "/usr/bin/time";
  } catch {
    return undefined;
  }
})();

async function measure(
  program: string,
  args: string[],
  input: string,
  work: string,
): Promise<{ seconds: number; rssKiB: number }> {
  Deno.mkdirSync(work, { recursive: true });
  for (const entry of Deno.readDirSync(work)) Deno.removeSync(`${work}/${entry.name}`);
  Deno.writeTextFileSync(`${work}/config`, `s${100 * 1024 * 1024}\nn10\n`);
  const report = `${work}.rss`;
  const timed = TIME ? `${TIME} -f %M -o "$4" ` : "";
  const start = performance.now();
  const result = await new Deno.Command("sh", {
    args: [
      "-c",
      `cat "$1" | ${timed}"$2" ${args.join(" ")} "$3"`,
      "sh",
      input,
      program,
      work,
      report,
    ],
    stdout: "null",
    stderr: "inherit",
  }).output();
  const seconds = (performance.now() - start) / 1000;
  if (!result.success) throw new Error(`${program} failed`);
  const rss = TIME ? Number(Deno.readTextFileSync(report).trim().split("\n").pop()) : 0;
  return { seconds, rssKiB: rss };
}

async function main(): Promise<void> {
  try {
    Deno.statSync(DEBIAN);
  } catch {
    console.log(`${DEBIAN} not found: nothing to compare with`);
    return;
  }
  const scratch = await Deno.makeTempDir({ prefix: "svlogd-bench-" });
  try {
    await install(`${scratch}/prefix`);
    const ours = `${scratch}/prefix/bin/svlogd`;
    const input = `${scratch}/input`;
    const bytes = generate(input);
    const mb = bytes / 1e6;
    console.log(`input: ${mb.toFixed(0)} MB, rotation at 100 MiB, best of ${ROUNDS}`);
    for (const [label, args] of [["-tt", ["-tt"]], ["no stamp", []]] as const) {
      const best = { debian: Infinity, ours: Infinity };
      const rss = { debian: 0, ours: 0 };
      for (let round = 0; round < ROUNDS; round++) {
        for (const [who, program] of [["debian", DEBIAN], ["ours", ours]] as const) {
          const run = await measure(program, [...args], input, `${scratch}/log`);
          best[who] = Math.min(best[who], run.seconds);
          rss[who] = Math.max(rss[who], run.rssKiB);
        }
      }
      const rate = (seconds: number) => (mb / seconds).toFixed(0).padStart(5);
      console.log(
        `${label.padEnd(9)} debian ${rate(best.debian)} MB/s (${best.debian.toFixed(2)} s, ` +
          `peak RSS ${(rss.debian / 1024).toFixed(1)} MiB)  ours ${rate(best.ours)} MB/s ` +
          `(${best.ours.toFixed(2)} s, peak RSS ${(rss.ours / 1024).toFixed(1)} MiB)  ` +
          `ratio ${(best.debian / best.ours).toFixed(2)}x`,
      );
    }
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

if (import.meta.main) await main();
