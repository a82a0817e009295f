import { assertEquals } from "./assert.ts";
import { getopt } from "../src/cli/getopt.ts";

Deno.test("getopt: flags, values, grouping and operands", () => {
  const result = getopt(["-v", "-w3", "-tt", "status", "-x"], "w:vVt", { program: "sv" });
  assertEquals(result.ok, true);
  assertEquals(result.options, [
    { name: "v" },
    { name: "w", value: "3" },
    { name: "t" },
    { name: "t" },
  ]);
  assertEquals(result.operands, ["status", "-x"]);
});

Deno.test("getopt: separate value and --", () => {
  const result = getopt(["-w", "5", "--", "-v"], "w:v", { program: "sv" });
  assertEquals(result.options, [{ name: "w", value: "5" }]);
  assertEquals(result.operands, ["-v"]);
});

Deno.test("getopt: unknown option and missing argument fail", () => {
  assertEquals(getopt(["-h"], "w:v", { program: "sv", quiet: true }).ok, false);
  assertEquals(getopt(["-w"], "w:v", { program: "sv", quiet: true }).ok, false);
  assertEquals(getopt(["-"], "w:v", { program: "sv" }).operands, ["-"]);
});
