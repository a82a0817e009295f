/**
 * Reassemble the session helper (src/sys/session_helper_*.S) with GNU `as`
 * and `objcopy`, and print the bytes as they are embedded in
 * src/sys/session_helper.ts. The sources carry their own ELF header, so the
 * bytes depend only on the instructions, not on a linker's version.
 *
 * Usage: `deno run --allow-read --allow-run --allow-write=/tmp scripts/session_helper.ts`
 * (x86_64 needs `as`; aarch64 needs binutils-aarch64-linux-gnu on other hosts.)
 *
 * @module
 */

/** Architectures the helper is written for (Deno.build.arch names). */
export const HELPER_ARCHES = ["x86_64", "aarch64"] as const;

/** One of {@link HELPER_ARCHES}. */
export type HelperArch = typeof HELPER_ARCHES[number];

const SOURCE_DIR = new URL("../src/sys/", import.meta.url);

/** The assembler and objcopy that target `arch` here, or undefined when none is installed. */
export function toolsFor(arch: HelperArch): { as: string; objcopy: string } | undefined {
  const prefixes = Deno.build.arch === arch ? ["", `${arch}-linux-gnu-`] : [`${arch}-linux-gnu-`];
  for (const prefix of prefixes) {
    const as = findOnPath(`${prefix}as`);
    const objcopy = findOnPath(`${prefix}objcopy`);
    if (as && objcopy) return { as, objcopy };
  }
  return undefined;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      const path = `${dir || "."}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * Assemble the helper for `arch` and return the whole ELF image.
 *
 * @example
 * ```ts ignore
 * import { assembleHelper } from "./session_helper.ts";
 * const image = await assembleHelper("x86_64");
 * ```
 */
export async function assembleHelper(arch: HelperArch): Promise<Uint8Array> {
  const tools = toolsFor(arch);
  if (!tools) throw new Error(`no assembler for ${arch} (install binutils for it)`);
  const source = new URL(`session_helper_${arch}.S`, SOURCE_DIR).pathname;
  const dir = await Deno.makeTempDir({ prefix: "session-helper-" });
  try {
    await run(tools.as, ["-o", `${dir}/helper.o`, source]);
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
  // The body of IMAGES in src/sys/session_helper.ts.
  for (const arch of HELPER_ARCHES) {
    const image = await assembleHelper(arch);
    const lines = base64Lines(image).map((line) => `    "${line}"`);
    console.log(`  ${arch}: // ${image.length} bytes\n${lines.join(" +\n")},`);
  }
}
