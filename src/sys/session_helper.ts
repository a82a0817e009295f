/**
 * The session helper: a tiny static ELF program (sources:
 * session_helper_x86_64.S and session_helper_aarch64.S beside this file;
 * `deno run -A scripts/session_helper.ts` reassembles them and prints what
 * is embedded here) that lets a new session's first process be someone
 * other than the service.
 *
 * Why: `runsvdir -P` puts each service in a new session and process group,
 * as runit does. Under runit, runsv leads that session and the service is an
 * ordinary member, so the service may call setsid() itself (`exec setsid
 * prog`, Python's os.setsid()). posix_spawn's POSIX_SPAWN_SETSID would make
 * the service the leader, and setsid() then fails with EPERM. Deno cannot
 * fork, so this helper does it:
 *
 *   argv [any, program, argv0, args...]; fd 3 the write end of a pipe
 *   (another number when the service needs 3: see sessionHelperImage).
 *   setsid(), then clone(CLONE_PARENT | SIGCHLD): the service becomes a
 *   child of the process that started the helper (so that one reaps it),
 *   in the helper's session and group, not leading either. The helper
 *   writes the service's pid (4 bytes) to fd 3 and exits 0. The service
 *   marks fd 3 close-on-exec and execs; should that fail it writes the
 *   negative errno (4 bytes) and exits 111, before or after the helper's
 *   pid: the two race. Any other failure: the negative errno from the
 *   helper, exit 111.
 *
 * @module
 */

import { decodeImage } from "./memfd.ts";

/** The helper's whole ELF image by architecture (Deno.build.arch), base64. */
const IMAGES: Record<string, string> = {
  x86_64: // 268 bytes
    "f0VMRgIBAQAAAAAAAAAAAAIAPgABAAAAeABAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAEAAOAAB" +
    "AAAAAAAAAAEAAAAFAAAAAAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAADAEAAAAAAAAMAQAAAAAAAAAQ" +
    "AAAAAAAASIscJEyNZCQITI1s3BC4cAAAAA8FSIXAeFG4OAAAAL8RgAAAMfYx0kUx0kUxwA8FSIXA" +
    "eDZ0ClDoQAAAADH/6zW4SAAAAL8DAAAAvgIAAAC6AQAAAA8FuDsAAABJi3wkCEmNdCQQTInqDwVQ" +
    "6AwAAAC/bwAAALjnAAAADwW4AQAAAL8DAAAASI10JAi6BAAAAA8Fww==",
  aarch64: // 284 bytes
    "f0VMRgIBAQAAAAAAAAAAAAIAtwABAAAAeABAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAEAAOAAB" +
    "AAAAAAAAAAEAAAAFAAAAAAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAAHAEAAAAAAAAcAQAAAAAAAAAQ" +
    "AAAAAAAA8wNA+fQjAJGVDhOLtSIAkagTgNIBAADU4AL4tyACkNIBAIDSAgCA0gMAgNIEAIDSiBuA" +
    "0gEAANTgAfi3gAAAtBEAAJQAAIDSDQAAFGAAgNJBAIDSIgCA0igDgNIBAADUgAZA+YFCAJHiAxWq" +
    "qBuA0gEAANQEAACU4A2A0sgLgNIBAADU4A8fuOEDAJFgAIDSggCA0ggIgNIBAADU/0MAkcADX9Y=",
};

/**
 * The two instructions that name the status descriptor (3) in each image,
 * as they are assembled: `mov $3, %edi` (x86_64), `mov x0, #3` (aarch64).
 */
const STATUS_FD_LOADS: Record<string, { bytes: number[]; encode: (fd: number) => number[] }> = {
  x86_64: { bytes: [0xbf, 3, 0, 0, 0], encode: (fd) => [0xbf, fd & 0xff, fd >> 8, 0, 0] },
  aarch64: {
    bytes: [0x60, 0x00, 0x80, 0xd2],
    encode: (fd) => {
      const word = (0xd2800000 | (fd << 5)) >>> 0;
      return [word & 0xff, (word >> 8) & 0xff, (word >> 16) & 0xff, word >>> 24];
    },
  },
};

/**
 * The helper's ELF image for `arch` (a Deno.build.arch name), or undefined
 * when there is none for it. `statusFd` (3 to 4095; default 3) is the
 * descriptor it reports on: one that the service's own file actions leave
 * alone (a service may need 3, as for `notification-fd`).
 *
 * @example
 * ```ts
 * import { sessionHelperImage } from "./session_helper.ts";
 * sessionHelperImage("x86_64")?.length; // 268
 * sessionHelperImage("x86_64", { statusFd: 5 })?.length; // 268
 * ```
 */
export function sessionHelperImage(
  arch: string,
  options: { statusFd?: number } = {},
): Uint8Array<ArrayBuffer> | undefined {
  const text = IMAGES[arch];
  if (text === undefined) return undefined;
  const image = decodeImage(text);
  const statusFd = options.statusFd ?? 3;
  if (statusFd === 3) return image;
  const loads = STATUS_FD_LOADS[arch];
  if (!Number.isInteger(statusFd) || statusFd < 3 || statusFd > 4095) {
    throw new RangeError(`session helper: bad status descriptor ${statusFd}`);
  }
  const found: number[] = [];
  for (let at = 0; at + loads.bytes.length <= image.length; at++) {
    if (loads.bytes.every((byte, i) => image[at + i] === byte)) found.push(at);
  }
  // The report and the child's close-on-exec: exactly these two, or the image is not ours.
  if (found.length !== 2) throw new Error(`session helper: ${arch} image not as assembled`);
  for (const at of found) image.set(loads.encode(statusFd), at);
  return image;
}
