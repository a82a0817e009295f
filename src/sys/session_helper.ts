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
 *   argv [any, program, argv0, args...]; fd 3 the write end of a pipe.
 *   setsid(), then clone(CLONE_PARENT | SIGCHLD): the service becomes a
 *   child of the process that started the helper (so that one reaps it),
 *   in the helper's session and group, not leading either. The helper
 *   writes the service's pid (4 bytes) to fd 3 and exits 0. The service
 *   marks fd 3 close-on-exec and execs; should that fail it writes the
 *   negative errno (4 bytes) and exits 111. Any other failure: the
 *   negative errno from the helper, exit 111.
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
 * The helper's ELF image for `arch` (a Deno.build.arch name), or undefined
 * when there is none for it.
 *
 * @example
 * ```ts
 * import { sessionHelperImage } from "./session_helper.ts";
 * sessionHelperImage("x86_64")?.length; // 268
 * ```
 */
export function sessionHelperImage(arch: string): Uint8Array<ArrayBuffer> | undefined {
  const text = IMAGES[arch];
  return text === undefined ? undefined : decodeImage(text);
}
