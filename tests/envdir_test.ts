import { assertEquals, assertOk } from "./assert.ts";
import { EnvDirError, envValue, readEnvDir } from "../src/chpst/envdir.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("envValue: first line, trailing blanks off, NULs become newlines", () => {
  const value = (text: string) => decoder.decode(envValue(encoder.encode(text)));
  assertEquals(value("plain"), "plain");
  assertEquals(value("  lead and trail \t \t\nsecond"), "  lead and trail");
  assertEquals(value("a\0b\0\n"), "a\nb\n");
  assertEquals(value("\n"), "");
  assertEquals(value(" \t"), "");
});

Deno.test("readEnvDir: values, removals, dot files, a dangling link reuses the buffer", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/A`, "one\ntwo");
    Deno.writeTextFileSync(`${dir}/EMPTY`, "");
    Deno.writeTextFileSync(`${dir}/.hidden`, "x");
    Deno.symlinkSync(`${dir}/nowhere`, `${dir}/LINK`);
    const changes = readEnvDir(dir, {});
    const byName = Object.fromEntries(changes);
    assertEquals(byName.A, "one");
    assertOk("EMPTY" in byName && byName.EMPTY === undefined);
    assertOk(!(".hidden" in byName));
    // daemontools' openreadclose leaves the previous buffer on ENOENT.
    const order = changes.map(([name]) => name);
    const before = order.indexOf("LINK") - 1;
    const expected = before < 0 ? undefined : order[before] === "A" ? "one\n" : undefined;
    assertEquals(byName.LINK, expected);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readEnvDir: subdirectories are errors unless onDirectory skips them", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/SUB`);
    Deno.writeTextFileSync(`${dir}/B`, "b");
    let error: unknown;
    try {
      readEnvDir(dir, {});
    } catch (caught) {
      error = caught;
    }
    assertOk(error instanceof EnvDirError);
    assertEquals([error.step, error.file, error.errno], ["read", "SUB", 21]);
    const skipped: string[] = [];
    const changes = readEnvDir(dir, { onDirectory: (file) => skipped.push(file) });
    assertEquals([changes, skipped], [[["B", "b"]], ["SUB"]]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readEnvDir: a missing directory fails at listing", () => {
  let error: unknown;
  try {
    readEnvDir("/nonexistent/env", {});
  } catch (caught) {
    error = caught;
  }
  assertOk(error instanceof EnvDirError);
  assertEquals([error.step, error.errno], ["list", 2]);
});
