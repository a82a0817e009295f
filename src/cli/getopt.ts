/**
 * The one option parser: POSIX getopt as runit's sgetopt does it, with its
 * messages (`sv: illegal option -- x`). Options stop at the first operand or
 * at `--`; `-w5` and `-w 5` both work; flags may be grouped (`-tt`). An
 * applet may also accept whole-word flags (`--json`, named in `long`) among
 * its options: runit rejects any such word, so no valid runit command line
 * changes meaning.
 *
 * @module
 */

import { writeErr } from "./output.ts";

/** One parsed option: its letter and, for options that take one, the value. */
export interface ParsedOption {
  /** The option letter (or the word of a `long` flag, without `--`). */
  name: string;
  /** The argument, for letters followed by `:` in the spec. */
  value?: string;
}

/** The result of {@link getopt}. */
export interface GetoptResult {
  /** Options in command-line order (repeats kept: `-tt` gives two). */
  options: ParsedOption[];
  /** The operands after the options. */
  operands: string[];
  /** False when an unknown option or a missing argument was met (already reported). */
  ok: boolean;
}

/**
 * Parse `args` against a getopt spec such as `"w:vV"`.
 *
 * @example
 * ```ts
 * import { getopt } from "./getopt.ts";
 * const { options, operands } = getopt(["-w", "3", "status", "web"], "w:vV", { program: "sv" });
 * // options: [{ name: "w", value: "3" }], operands: ["status", "web"]
 * getopt(["--json", "status", "web"], "w:vV", { program: "sv", long: ["json"] }).options;
 * // [{ name: "json" }]
 * ```
 */
export function getopt(
  args: readonly string[],
  spec: string,
  options: { program: string; quiet?: boolean; long?: readonly string[] },
): GetoptResult {
  const parsed: ParsedOption[] = [];
  let index = 0;
  let ok = true;
  const complain = (text: string, letter: string) => {
    if (!options.quiet) writeErr(`${options.program}: ${text} -- ${letter}\n`);
    ok = false;
  };
  while (index < args.length) {
    const arg = args[index];
    if (arg === "--") {
      index++;
      break;
    }
    if (arg.length < 2 || arg[0] !== "-") break;
    index++;
    if (arg.startsWith("--") && options.long?.includes(arg.slice(2))) {
      parsed.push({ name: arg.slice(2) });
      continue;
    }
    for (let position = 1; position < arg.length; position++) {
      const letter = arg[position];
      const at = spec.indexOf(letter);
      if (letter === ":" || at === -1) {
        complain("illegal option", letter);
        return { options: parsed, operands: args.slice(index), ok };
      }
      if (spec[at + 1] !== ":") {
        parsed.push({ name: letter });
        continue;
      }
      let value = arg.slice(position + 1);
      if (value === "") {
        if (index >= args.length) {
          complain("option requires an argument", letter);
          return { options: parsed, operands: [], ok };
        }
        value = args[index++];
      }
      parsed.push({ name: letter, value });
      break;
    }
  }
  return { options: parsed, operands: args.slice(index), ok };
}
