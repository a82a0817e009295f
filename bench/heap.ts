/**
 * Where our runsvdir's memory goes under the soak's churn (not a test): the
 * soak's 50 flapping services under our runsvdir alone, started by the
 * installed launcher with the inspector on. Every `--every` seconds (60) it
 * forces a full garbage collection over the inspector protocol and records
 * V8's heap after it (used, committed, ArrayBuffer backing stores), and from
 * /proc the RSS just before and just after the collection, split into
 * anonymous and file pages, with the anonymous part split into V8's heap and
 * the rest (malloc arenas, code, stacks). At the end: the least-squares
 * slope of each per minute, over the samples after the warm-up (`--warmup`
 * minutes, 5).
 *
 * With `--snapshot M` (repeatable) it takes a heap snapshot at minute M, and
 * always one at the end, and prints the constructors whose object count or
 * size grew most between the first and the last. A snapshot leaves ~100 MB
 * that glibc keeps as free memory: the RSS after one is not comparable with
 * the RSS before it (V8's heap and malloc's bytes in use are). `--keep DIR`
 * writes the samples and the snapshot summaries there as JSON.
 *
 * `--passive` forces no collection: the RSS as it goes by itself. Each
 * sample also reads glibc's malloc statistics (mallinfo2, every arena) inside
 * our runsvdir, through the inspector: bytes in use, and bytes free but kept.
 *
 * Run: deno task bench:heap [--minutes 30] [--every 60] [--snapshot 3] [--keep DIR]
 *      [--passive] [--v8-flags=...] (passed on to our runsvdir)
 *
 * @module
 */

import { install, launcherScript } from "../scripts/install.ts";
import {
  killLeftUnder,
  makeSoakTree,
  procFields,
  sleep,
  slope,
  SOAK_SERVICES,
  statFields,
} from "./common.ts";

/** One sample, kB unless named otherwise. */
interface Sample {
  minute: number;
  /** VmRSS before the forced collection. */
  rssBefore: number;
  /** VmRSS, RssAnon and RssFile after it. */
  rss: number;
  anon: number;
  file: number;
  /** V8: used and committed heap after the collection. */
  heapUsed: number;
  heapTotal: number;
  /** V8: ArrayBuffer backing stores and other external memory. */
  external: number;
  /** Anonymous RSS that is not V8's committed heap (malloc, code, stacks). */
  otherAnon: number;
  /** glibc malloc (mallinfo2, every arena): bytes in use, and free but kept. */
  mallocUsed: number;
  mallocFree: number;
  /** CPU seconds (user + system) used so far. */
  cpu: number;
  fds: number;
  threads: number;
}

/** Count and bytes of one constructor (node type and name) in a heap snapshot. */
interface Bucket {
  count: number;
  size: number;
}

function argument(name: string, fallback: string): string {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Deno.args[at + 1] : fallback;
}

const minutes = Number(argument("--minutes", "30"));
const every = Number(argument("--every", "60"));
const warmup = Number(argument("--warmup", "5"));
const keep = argument("--keep", "");
const snapshotsAt = Deno.args.flatMap((arg, i) =>
  arg === "--snapshot" ? [Number(Deno.args[i + 1])] : []
);
const extraV8 = Deno.args.filter((arg) => arg.startsWith("--v8-flags="));
const passive = Deno.args.includes("--passive");
const PORT = 9300 + (Deno.pid % 500);
/** Run inside our runsvdir (it has --allow-ffi): glibc's malloc statistics, as [in use, free]. */
const MALLINFO = `(() => {
  globalThis.__benchMallinfo ??= Deno.dlopen("libc.so.6", {
    mallinfo2: { parameters: [], result: { struct: Array(10).fill("usize") } },
  });
  const info = new BigUint64Array(globalThis.__benchMallinfo.symbols.mallinfo2().buffer);
  return [Number(info[7]), Number(info[8])];
})()`;

/** A minimal Chrome DevTools protocol client over Deno's WebSocket. */
class Inspector {
  #socket: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (r: any) => void; reject: (e: Error) => void }>();
  #chunks: string[] = [];

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data as string);
      if (message.method === "HeapProfiler.addHeapSnapshotChunk") {
        this.#chunks.push(message.params.chunk);
        return;
      }
      const waiter = message.id !== undefined ? this.#pending.get(message.id) : undefined;
      if (!waiter) return;
      this.#pending.delete(message.id);
      if (message.error) waiter.reject(new Error(JSON.stringify(message.error)));
      else waiter.resolve(message.result);
    };
  }

  static async connect(port: number): Promise<Inspector> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
        const socket = new WebSocket(list[0].webSocketDebuggerUrl);
        await new Promise((resolve, reject) => {
          socket.onopen = resolve;
          socket.onerror = reject;
        });
        return new Inspector(socket);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(200);
      }
    }
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<any> {
    const id = this.#next++;
    const { promise, resolve, reject } = Promise.withResolvers<any>();
    this.#pending.set(id, { resolve, reject });
    this.#socket.send(JSON.stringify({ id, method, params }));
    return promise;
  }

  /** A heap snapshot, summarised by node type and name. */
  async snapshot(): Promise<Map<string, Bucket>> {
    this.#chunks = [];
    await this.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const data = JSON.parse(this.#chunks.join(""));
    this.#chunks = [];
    return summarise(data);
  }

  close(): void {
    this.#socket.close();
  }
}

/** Count and self size per `type:name` (strings and code pooled by type). */
function summarise(data: any): Map<string, Bucket> {
  const fields: string[] = data.snapshot.meta.node_fields;
  const types: string[] = data.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const nodes: number[] = data.nodes;
  const strings: string[] = data.strings;
  const buckets = new Map<string, Bucket>();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const pooled = ["string", "concatenated string", "sliced string", "number", "code"];
    const name = pooled.includes(type) ? "" : strings[nodes[i + nameAt]].slice(0, 60);
    const key = `${type}:${name}`;
    const bucket = buckets.get(key) ?? { count: 0, size: 0 };
    bucket.count++;
    bucket.size += nodes[i + sizeAt];
    buckets.set(key, bucket);
  }
  return buckets;
}

async function takeSample(inspector: Inspector, pid: number, minute: number): Promise<Sample> {
  const rssBefore = procFields(`/proc/${pid}/status`)("VmRSS");
  if (!passive) await inspector.call("HeapProfiler.collectGarbage");
  const evaluated = await inspector.call("Runtime.evaluate", {
    expression: MALLINFO,
    returnByValue: true,
  });
  const [mallocUsed, mallocFree] = evaluated.result.value as number[];
  const cpuFields = statFields(pid);
  const cpu = (Number(cpuFields[11]) + Number(cpuFields[12])) / 100;
  const heap = await inspector.call("Runtime.getHeapUsage");
  const status = procFields(`/proc/${pid}/status`);
  const kB = (bytes: number) => Math.round(bytes / 1024);
  let fds = 0;
  try {
    fds = [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
  } catch {
    // Gone.
  }
  const anon = status("RssAnon");
  return {
    minute,
    rssBefore,
    rss: status("VmRSS"),
    anon,
    file: status("RssFile"),
    heapUsed: kB(heap.usedSize),
    heapTotal: kB(heap.totalSize),
    external: kB(heap.backingStorageSize ?? 0),
    otherAnon: anon - kB(heap.totalSize),
    mallocUsed: kB(mallocUsed),
    mallocFree: kB(mallocFree),
    cpu,
    fds,
    threads: status("Threads"),
  };
}

function printDiff(first: Map<string, Bucket>, last: Map<string, Bucket>): void {
  const rows = [...new Set([...first.keys(), ...last.keys()])].map((key) => {
    const a = first.get(key) ?? { count: 0, size: 0 };
    const b = last.get(key) ?? { count: 0, size: 0 };
    return { key, count: b.count - a.count, size: b.size - a.size, now: b.count };
  }).filter((row) => row.count !== 0 || row.size !== 0);
  const total = (map: Map<string, Bucket>) =>
    [...map.values()].reduce(
      (sum, b) => ({ count: sum.count + b.count, size: sum.size + b.size }),
      {
        count: 0,
        size: 0,
      },
    );
  const [a, b] = [total(first), total(last)];
  console.log(
    `\nsnapshot totals: ${a.count} nodes ${a.size} B -> ${b.count} nodes ${b.size} B ` +
      `(${b.count - a.count} nodes, ${b.size - a.size} B)`,
  );
  console.log("grew most (by count) | Δcount | Δbytes | count now");
  for (const row of rows.sort((x, y) => y.count - x.count).slice(0, 15)) {
    console.log(`${row.key} | ${row.count} | ${row.size} | ${row.now}`);
  }
  console.log("grew most (by bytes) | Δcount | Δbytes | count now");
  for (const row of rows.sort((x, y) => y.size - x.size).slice(0, 15)) {
    console.log(`${row.key} | ${row.count} | ${row.size} | ${row.now}`);
  }
}

const root = await Deno.makeTempDir({ prefix: "runit-bench-heap-" });
let child: Deno.ChildProcess | undefined;
let inspector: Inspector | undefined;
try {
  await Deno.chmod(root, 0o755);
  await install(`${root}/prefix`);
  const bin = `${root}/prefix/bin`;
  // The installed launcher, with the inspector on (and any --v8-flags given).
  let script = launcherScript(new URL("..", import.meta.url).pathname.replace(/\/$/, ""), {
    deno: Deno.execPath(),
  });
  const flags = [`--inspect=127.0.0.1:${PORT}`, ...extraV8].join(" ");
  if (!script.includes("--v8-flags=")) throw new Error("launcher has no --v8-flags to extend");
  script = script.replace("--v8-flags=", `${flags} --v8-flags=`);
  await Deno.mkdir(`${root}/inspect`);
  await Deno.writeTextFile(`${root}/inspect/runit`, script, { mode: 0o755 });
  await Deno.symlink("runit", `${root}/inspect/runsvdir`);
  await makeSoakTree(`${root}/tree`, `${bin}/svlogd`);
  child = new Deno.Command(`${root}/inspect/runsvdir`, {
    args: [`${root}/tree`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const pid = child.pid;
  inspector = await Inspector.connect(PORT);
  console.log(
    `heap: ${SOAK_SERVICES} services under our runsvdir (pid ${pid}) for ${minutes} min; ` +
      `${passive ? "no forced GC" : "forced GC"} and a sample every ${every} s`,
  );
  console.log(
    "minute | RSS before GC | RSS | anon | file | V8 used | V8 committed | backing stores | " +
      "other anon | malloc used | malloc free | fds | threads | CPU s (kB)",
  );
  const samples: Sample[] = [];
  const summaries: Array<{ minute: number; buckets: Map<string, Bucket> }> = [];
  const started = performance.now();
  const pendingSnapshots = [...snapshotsAt].sort((a, b) => a - b);
  let nextSample = started + 10_000;
  while (true) {
    const minute = (performance.now() - started) / 60_000;
    if (minute >= minutes) break;
    if (pendingSnapshots.length > 0 && minute >= pendingSnapshots[0]) {
      pendingSnapshots.shift();
      summaries.push({ minute, buckets: await inspector.snapshot() });
      console.log(`${minute.toFixed(1)} | heap snapshot taken`);
    }
    if (performance.now() >= nextSample) {
      const s = await takeSample(inspector, pid, minute);
      samples.push(s);
      console.log(
        [
          s.minute.toFixed(1),
          s.rssBefore,
          s.rss,
          s.anon,
          s.file,
          s.heapUsed,
          s.heapTotal,
          s.external,
          s.otherAnon,
          s.mallocUsed,
          s.mallocFree,
          s.fds,
          s.threads,
          s.cpu.toFixed(1),
        ].join(" | "),
      );
      nextSample += every * 1000;
    }
    await sleep(500);
  }
  const end = (performance.now() - started) / 60_000;
  summaries.push({ minute: end, buckets: await inspector.snapshot() });
  const steady = samples.filter((s) => s.minute >= warmup);
  const xs = steady.map((s) => s.minute);
  console.log(`\nslopes per minute after minute ${warmup} (${steady.length} samples), kB:`);
  for (
    const key of [
      "rssBefore",
      "rss",
      "anon",
      "file",
      "heapUsed",
      "heapTotal",
      "external",
      "otherAnon",
      "mallocUsed",
      "mallocFree",
      "fds",
      "threads",
      "cpu",
    ] as const
  ) {
    console.log(`${key} | ${slope(xs, steady.map((s) => s[key])).toFixed(1)}`);
  }
  if (summaries.length >= 2) {
    console.log(
      `\nheap snapshots, minute ${summaries[0].minute.toFixed(1)} against ` +
        `${summaries.at(-1)!.minute.toFixed(1)}:`,
    );
    printDiff(summaries[0].buckets, summaries.at(-1)!.buckets);
  }
  if (keep) {
    await Deno.mkdir(keep, { recursive: true });
    await Deno.writeTextFile(`${keep}/samples.json`, JSON.stringify(samples, null, 1));
    for (const { minute, buckets } of summaries) {
      await Deno.writeTextFile(
        `${keep}/snapshot-${minute.toFixed(1)}.json`,
        JSON.stringify(Object.fromEntries(buckets)),
      );
    }
  }
} finally {
  inspector?.close();
  if (child) {
    try {
      child.kill("SIGHUP");
    } catch {
      // Gone.
    }
    await child.status;
  }
  // Services our runsvdir left (none, normally).
  await killLeftUnder(root, { waitMs: 10_000 });
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
