import { assertEquals } from "./assert.ts";
import { scanServices } from "../src/runsvdir/scan.ts";
import { Sandbox } from "./helpers.ts";

Deno.test("scan: directories and links to them, once each; dot names and files skipped", async () => {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/service`;
  for (const name of ["a", "b", ".hidden"]) await Deno.mkdir(`${dir}/${name}`, { recursive: true });
  await Deno.mkdir(`${sb.dir}/outside`);
  await Deno.writeTextFile(`${dir}/file`, "");
  await Deno.symlink("a", `${dir}/a-link`);
  await Deno.symlink(`${sb.dir}/outside`, `${dir}/out`);
  await Deno.symlink(`${sb.dir}/outside`, `${dir}/.out`);
  await Deno.symlink("missing", `${dir}/dangling`);
  const found = scanServices(dir);
  const names = found.entries.map((entry) => entry.name);
  // One of a / a-link (directory order decides which), b, out.
  assertEquals(names.filter((name) => name === "a" || name === "a-link").length, 1);
  assertEquals(names.filter((name) => name !== "a" && name !== "a-link").sort(), ["b", "out"]);
  assertEquals(new Set(found.entries.map((entry) => entry.key)).size, 3);
  assertEquals(found.warnings, ["unable to stat dangling: file does not exist"]);
  assertEquals(found.failed, undefined);
  assertEquals(found.links, true);
});

Deno.test("scan: a rename keeps the key; a missing directory fails as a whole", async () => {
  await using sb = await Sandbox.create();
  await Deno.mkdir(`${sb.dir}/a`);
  const before = scanServices(sb.dir).entries;
  await Deno.rename(`${sb.dir}/a`, `${sb.dir}/z`);
  const after = scanServices(sb.dir).entries;
  assertEquals(after.map((entry) => entry.name), ["z"]);
  assertEquals(after[0].key, before[0].key);
  assertEquals(scanServices(sb.dir).links, false);
  const missing = scanServices(`${sb.dir}/none`);
  assertEquals(missing.entries, []);
  assertEquals(missing.failed, `unable to open directory ${sb.dir}/none: file does not exist`);
});
