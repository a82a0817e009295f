/**
 * Reassemble the tiny static programs in src/sys (the session helper,
 * session_helper_*.S, and the log placeholder, log_placeholder_*.S) with GNU
 * `as` and `objcopy`, and print the bytes as they are embedded in
 * src/sys/session_helper.ts and src/sys/log_placeholder.ts. The sources
 * carry their own ELF header (the one in src/sys/elf_header.inc), so the
 * bytes depend only on the instructions, not on a linker's version.
 *
 * Usage: `deno run --allow-read --allow-env=PATH --allow-run --allow-write=/tmp scripts/session_helper.ts`
 * (x86_64 needs `as`; aarch64 needs binutils-aarch64-linux-gnu on other hosts.)
 *
 * @module
 */

import { findOnPath } from "../src/cli/dispatch.ts";

/** Architectures the helper is written for (Deno.build.arch names). */
export const HELPER_ARCHES = ["x86_64", "aarch64"] as const;

/** One of {@link HELPER_ARCHES}. */
export type HelperArch = typeof HELPER_ARCHES[number];

/** The programs, by the stem of their source and TypeScript file names. */
export const HELPER_PROGRAMS = ["session_helper", "log_placeholder"] as const;

/** One of {@link HELPER_PROGRAMS}. */
export type HelperProgram = typeof HELPER_PROGRAMS[number];

const SOURCE_DIR = new URL("../src/sys/", import.meta.url);

/** The assembler and objcopy that target `arch` here, or undefined when none is installed. */
export function toolsFor(arch: HelperArch): { as: string; objcopy: string } | undefined {
  const prefixes = Deno.build.arch === arch ? ["", `${arch}-linux-gnu-`] : [`${arch}-linux-gnu-`];
  const dirs = (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":");
  for (const prefix of prefixes) {
    const as = findOnPath(`${prefix}as`, dirs);
    const objcopy = findOnPath(`${prefix}objcopy`, dirs);
    if (as && objcopy) return { as, objcopy };
  }
  return undefined;
}

/**
 * Assemble `program` (the session helper by default) for `arch` and return
 * the whole ELF image.
 *
 * @example
 * ```ts ignore
 * import { assembleHelper } from "./session_helper.ts";
 * const image = await assembleHelper("x86_64", { program: "log_placeholder" });
 * ```
 */
export async function assembleHelper(
  arch: HelperArch,
  options: { program?: HelperProgram } = {},
): Promise<Uint8Array> {
  const tools = toolsFor(arch);
  if (!tools) throw new Error(`no assembler for ${arch} (install binutils for it)`);
  const source = new URL(`${options.program ?? "session_helper"}_${arch}.S`, SOURCE_DIR).pathname;
  const dir = await Deno.makeTempDir({ prefix: "session-helper-" });
  try {
    await run(tools.as, ["-I", SOURCE_DIR.pathname, "-o", `${dir}/helper.o`, source]);
    await run(tools.objcopy, ["-O", "binary", "-j", ".text", `${dir}/helper.o`, `${dir}/helper`]);
    return await Deno.readFile(`${dir}/helper`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(command: string, args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(command, { args, stderr: "piped" }).output();
  if (code !== 0) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
  }
}

/** Base64 in lines of 76 characters, as the embedded constant is written. */
export function base64Lines(bytes: Uint8Array): string[] {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).match(/.{1,76}/g) ?? [];
}

if (import.meta.main) {
  // The body of IMAGES in src/sys/session_helper.ts and src/sys/log_placeholder.ts.
  for (const program of HELPER_PROGRAMS) {
    console.log(`src/sys/${program}.ts:`);
    for (const arch of HELPER_ARCHES) {
      const image = await assembleHelper(arch, { program });
      const lines = base64Lines(image).map((line) => `    "${line}"`);
      console.log(`  ${arch}: // ${image.length} bytes\n${lines.join(" +\n")},`);
    }
  }
}
