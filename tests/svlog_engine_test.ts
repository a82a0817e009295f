import { assertEquals, assertOk } from "./assert.ts";
import { Children } from "../src/reactor/mod.ts";
import { type EngineOptions, LineEngine } from "../src/svlog/engine.ts";
import { LogDir } from "../src/svlog/logdir.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Run {
  files: string[];
  stderr: string;
}

/** Feed `input` in pieces of `piece` bytes through a fresh engine into one log. */
async function feed(
  input: Uint8Array,
  options: { piece: number; config?: string; engine?: Partial<EngineOptions> },
): Promise<Run> {
  const dir = await Deno.makeTempDir({ prefix: "svlog-engine-" });
  const children = new Children();
  let stderr = "";
  try {
    if (options.config) await Deno.writeTextFile(`${dir}/config`, options.config);
    const log = new LogDir(dir, {
      reporter: { write: (text) => stderr += text, verbose: false },
      children,
      lineMax: options.engine?.lineMax ?? 1000,
    });
    assertEquals(log.open(), true);
    const engine = new LineEngine([log], {
      stamp: 0,
      lineMax: 1000,
      replaceChar: 0,
      replaceSet: new Uint8Array(0),
      stderr: (bytes) => stderr += decoder.decode(bytes),
      ...options.engine,
    });
    engine.setTime({ sec: 1134897230, nsec: 976180000 });
    for (let at = 0; at < input.length; at += options.piece) {
      const piece = input.subarray(at, Math.min(input.length, at + options.piece));
      assertEquals(engine.consume(piece, 0), piece.length);
      log.flush();
    }
    assertEquals(engine.finish(), true);
    log.close();
    const names = [...Deno.readDirSync(dir)].map((e) => e.name)
      .filter((n) => n.startsWith("@") || n === "current").sort();
    return { files: names.map((n) => Deno.readTextFileSync(`${dir}/${n}`)), stderr };
  } finally {
    children.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const lines = Array.from({ length: 500 }, (_, i) => `${i}:${"abc\tdef ".repeat(i % 9)}`);
const text = lines.map((line) => `${line}\n`).join("");
const input = encoder.encode(text);

/**
 * The log files expected for `written` (each line as it lands in the log),
 * by runit's rule: once `current` holds at least s - l bytes after a line,
 * it is rotated (svlogd.c: size >= sizemax - linemax). s0: never.
 */
function files(written: string[], options: { s: number; l: number }): string[] {
  const result: string[] = [];
  let current = "";
  for (const line of written) {
    current += `${line}\n`;
    if (options.s > 0 && current.length >= options.s - options.l) {
      result.push(current);
      current = "";
    }
  }
  return [...result, current];
}

/** `line` with its first `max` bytes' non-printables and ` ` replaced by `_`. */
function replaced(line: string, max: number): string {
  return [...line].map((c, i) => i < max && (c < " " || c > "~" || c === " ") ? "_" : c).join("");
}

Deno.test("engine: how input is cut into reads changes nothing", async () => {
  const tt = "2005-12-18_09:13:50.97618 ";
  const ttt = "2005-12-18T09:13:50.97618 ";
  const cases = [
    { config: "s2000\nn0\n", engine: {}, expected: files(lines, { s: 2000, l: 1000 }) },
    {
      config: "s2000\nn0\n",
      engine: { stamp: 2 as const },
      expected: files(lines.map((line) => tt + line), { s: 2000, l: 1000 }),
    },
    {
      config: "s1500\nn0\n-*7*\np> \n",
      engine: { stamp: 3 as const },
      expected: files(
        lines.filter((line) => !line.includes("7")).map((line) => `${ttt}> ${line}`),
        { s: 1500, l: 1000 },
      ),
    },
    {
      config: "s0\n",
      engine: { replaceChar: 0x5f, replaceSet: encoder.encode(" "), lineMax: 12 },
      expected: files(lines.map((line) => replaced(line, 12)), { s: 0, l: 12 }),
    },
  ];
  for (const { config, engine, expected } of cases) {
    const whole = await feed(input, { piece: input.length, config, engine });
    assertEquals(whole, { files: expected, stderr: "" }, config);
    for (const piece of [1, 7, 4096]) {
      assertEquals(await feed(input, { piece, config, engine }), whole, `${config} ${piece}`);
    }
    for (const file of whole.files) assertOk(file === "" || file.endsWith("\n"));
  }
});

Deno.test("engine: stamps, prefix, replacement of the first -l bytes only", async () => {
  const run = await feed(encoder.encode("a\tb\tc\td\n"), {
    piece: 100,
    config: "p[x] \n",
    engine: { stamp: 2, lineMax: 3, replaceChar: 0x2e },
  });
  assertEquals(run.files, ["2005-12-18_09:13:50.97618 [x] a.b\tc\td\n"]);
});

Deno.test("engine: e echoes the first -l bytes to stderr, with ... when cut", async () => {
  const run = await feed(encoder.encode("short\nsomewhat long\n"), {
    piece: 3,
    config: "e*\n-some*\n",
    engine: { lineMax: 8 },
  });
  assertEquals(run.stderr, "short\nsomewhat...\n");
  assertEquals(run.files, ["short\n"]);
});

Deno.test("engine: an over-long line is written whole, and a short partial one dropped", async () => {
  const long = "L".repeat(3 * 1024 * 1024);
  const run = await feed(encoder.encode(`a\n${long}\nb\npartial`), { piece: 65536 });
  // Longer than s (1000000): it gets a file of its own, whole.
  assertEquals(run.files, ["a\n", `${long}\n`, "b\n"]);
  const cut = await feed(encoder.encode(`a\n${long}`), { piece: 65536, config: "s0\n" });
  assertEquals(cut.files, [`a\n${long}\n`]);
});
