import { assertEquals } from "./assert.ts";
import { applyChanges } from "../src/chpst/environment.ts";

Deno.test("applyChanges: removal moves the last entry into place, additions append", () => {
  assertEquals(
    applyChanges(["A=1", "B=2", "C=3"], [["A", undefined], ["D", "4"]]),
    ["C=3", "B=2", "D=4"],
  );
  assertEquals(applyChanges(["A=1", "B=2"], [["B", "x"]]), ["A=1", "B=x"]);
  assertEquals(applyChanges(["A=1"], [["NONE", undefined]]), ["A=1"]);
});

Deno.test("applyChanges: a name holding '=' sets the variable before it, as djb's code does", () => {
  assertEquals(applyChanges(["N=old"], [["N=Q", "v"]]), ["N=Q=v"]);
  assertEquals(applyChanges(["N=old"], [["N=Q", undefined]]), ["N=Q"]);
});
