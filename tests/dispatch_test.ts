import { assertEquals } from "./assert.ts";
import { appletOfPath, resolveInvocation, typedName } from "../src/cli/dispatch.ts";
import { bin, Sandbox } from "./helpers.ts";

const links: Record<string, string> = {
  "/etc/init.d/web": "/usr/bin/sv",
  "/usr/bin/sv": "/opt/runit/bin/runit",
  "/usr/local/bin/tool": "../lib/alias",
  "/usr/local/bin/../lib/alias": "/opt/runit/bin/runsv",
};
const readLink = (path: string) => links[path];

Deno.test("dispatch: applet by base name", () => {
  assertEquals(appletOfPath("/opt/runit/bin/sv", { readLink }), "sv");
  assertEquals(appletOfPath("runsv", { readLink, path: "" }), "runsv");
});

Deno.test("dispatch: follows the symlink chain one hop at a time", () => {
  // web is no applet; its link names sv, which wins before runit is reached.
  assertEquals(appletOfPath("/etc/init.d/web", { readLink }), "sv");
  assertEquals(appletOfPath("/usr/local/bin/tool", { readLink }), "runsv");
  assertEquals(appletOfPath("/nowhere/else", { readLink }), undefined);
});

Deno.test("dispatch: LSB mode keeps the script's name as program", () => {
  const invocation = resolveInvocation("/etc/init.d/web", ["status"], { readLink });
  assertEquals(invocation, {
    kind: "applet",
    applet: "sv",
    program: "web",
    argv0: "/etc/init.d/web",
    args: ["status"],
  });
});

Deno.test("dispatch: multicall forms", () => {
  assertEquals(resolveInvocation("runit", [], { readLink, path: "" }), { kind: "list" });
  assertEquals(resolveInvocation("runit", ["--help"], { readLink, path: "" }), { kind: "list" });
  assertEquals(resolveInvocation("runit", ["nope"], { readLink, path: "" }), {
    kind: "unknown",
    name: "nope",
  });
  assertEquals(resolveInvocation("/x/runit", ["sv", "status", "a"], { readLink }), {
    kind: "applet",
    applet: "sv",
    program: "sv",
    argv0: "sv",
    args: ["status", "a"],
  });
});

Deno.test("dispatch: argv[0] that a PATH lookup produced is shown as the name typed", async () => {
  await using sb = await Sandbox.create();
  const dir = `${sb.dir}/bin`;
  await sb.script(`${dir}/runsv`, "exit 0");
  await sb.script(`${sb.dir}/other/runsv`, "exit 0");
  await Deno.writeTextFile(`${sb.dir}/other/sv`, ""); // not executable: PATH lookup skips it
  await sb.script(`${dir}/sv`, "exit 0");
  assertEquals(typedName(`${dir}/runsv`, { path: `/nonexistent:${dir}` }), "runsv");
  // Found earlier on PATH elsewhere: the user cannot have typed the bare name.
  assertEquals(typedName(`${dir}/runsv`, { path: `${sb.dir}/other:${dir}` }), `${dir}/runsv`);
  assertEquals(typedName(`${dir}/sv`, { path: `${sb.dir}/other:${dir}` }), "sv");
  assertEquals(typedName(`${dir}/runsv`, { path: "/usr/bin" }), `${dir}/runsv`);
  assertEquals(typedName("./runsv", { path: "/usr/bin" }), "./runsv");
  assertEquals(typedName("runsv", { path: "" }), "runsv");
  const invocation = resolveInvocation(`${dir}/runsv`, [], { path: dir });
  assertEquals(invocation, {
    kind: "applet",
    applet: "runsv",
    program: "runsv",
    argv0: "runsv",
    args: [],
  });
});

Deno.test("dispatch: installed binary, symlinks, LSB chain, help, version", async () => {
  await using sb = await Sandbox.create();
  const dir = await bin();
  const runit = `${dir}/runit`;
  const list = await sb.run(runit, []);
  assertEquals(list.code, 0);
  for (const applet of ["runsv", "sv"]) {
    assertEquals(list.stdout.includes(`  ${applet} `), true, list.stdout);
  }
  const unknown = await sb.run(runit, ["frobnicate"]);
  assertEquals(unknown.code, 100);
  assertEquals(unknown.stderr, "runit: fatal: unknown applet: frobnicate\n");
  const help = await sb.run(`${dir}/sv`, ["--help"]);
  assertEquals(help.code, 0);
  assertEquals(help.stdout.split("\n")[0], "usage: sv [-v] [-w sec] command service ...");
  const version = await sb.run(`${dir}/runsv`, ["-V"]);
  assertEquals([version.code, version.stdout], [1, ""]);
  assertEquals(version.stderr, `$Id: runit-deno 0.1.0 $\nusage: ${dir}/runsv dir\n\n`);
  // /etc/init.d/web -> sv -> runit: sv in LSB mode for the service "web".
  await Deno.symlink(`${dir}/sv`, `${sb.dir}/sv`);
  await Deno.symlink(`${sb.dir}/sv`, `${sb.dir}/web`);
  const lsb = await sb.run(`${sb.dir}/web`, ["status"], { env: { SVDIR: `${sb.dir}/none` } });
  assertEquals(
    lsb.stdout,
    "fail: web: unable to change to service directory: file does not exist\n",
  );
  assertEquals(lsb.code, 1);
  const lsbUsage = await sb.run(`${sb.dir}/web`, []);
  assertEquals([lsbUsage.code, lsbUsage.stderr], [2, "usage: web [-w sec] command\n\n"]);
  // Through the multicall name.
  const sub = await sb.run(runit, ["sv"]);
  assertEquals([sub.code, sub.stderr], [100, "usage: sv [-v] [-w sec] command service ...\n\n"]);
});
