/**
 * The log placeholder: a tiny static ELF program (sources:
 * log_placeholder_x86_64.S and log_placeholder_aarch64.S beside this file;
 * `deno run -A scripts/session_helper.ts` reassembles them and prints what
 * is embedded here) that a hosted svlogd becomes once its supervisor has
 * taken its logging over.
 *
 * Why: the log service must stay a process of its own, with the pid, user
 * and uptime that `sv status` shows and that signals reach, but a Deno
 * process costs megabytes. svlogd hands its descriptors to the supervisor,
 * then execs this (same pid, same credentials, about 10 KB):
 *
 *   fd 0: the log pipe, kept open and never read; fd 3: the host channel.
 *   It names itself `svlogd` (prctl), blocks HUP and ALRM and waits for
 *   them with rt_sigtimedwait, writing each signal's number (one byte) to
 *   fd 3, so that `sv hup`, `sv alarm` and a user's own `kill -HUP` reach
 *   the hosted logger. When that write fails (the host is gone) it exits 0.
 *   Every other signal has its default action: TERM and KILL end it, which
 *   the supervisor sees as the log service's exit.
 *
 * @module
 */

import { errno, libc } from "./libc.ts";
import { decodeImage, type LoadedProgram, loadProgram } from "./memfd.ts";
import { defaultSignalsForExec, prepareExec } from "./exec.ts";
import { duplicateFd } from "./descriptors.ts";
import { errnoOf } from "./errno.ts";

/** The placeholder's whole ELF image by architecture (Deno.build.arch), base64. */
const IMAGES: Record<string, string> = {
  x86_64: // 249 bytes
    "f0VMRgIBAQAAAAAAAAAAAAIAPgABAAAAeABAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAEAAOAAB" +
    "AAAAAAAAAAEAAAAFAAAAAAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAA+QAAAAAAAAD5AAAAAAAAAAAQ" +
    "AAAAAAAAuJ0AAAC/DwAAAEiNNWkAAAAPBUiD7BBIxwQkASAAALgOAAAAMf9IieYx0kG6CAAAAA8F" +
    "uIAAAABIiecx9jHSQboIAAAADwVIhcB454hEJAi4AQAAAL8DAAAASI10JAi6AQAAAA8FSIP4/HTk" +
    "SIXAf8K45wAAADH/DwVzdmxvZ2QA",
  aarch64: // 260 bytes
    "f0VMRgIBAQAAAAAAAAAAAAIAtwABAAAAeABAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAEAAOAAB" +
    "AAAAAAAAAAEAAAAFAAAAAAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAABAEAAAAAAAAEAQAAAAAAAAAQ" +
    "AAAAAAAA4AGA0gEEABDoFIDSAQAA1P9DANEgAITS4AMA+QAAgNLhAwCRAgCA0gMBgNLoEIDSAQAA" +
    "1OADAJEBAIDSAgCA0gMBgNIoEYDSAQAA1ED//7fgIwA5YACA0uEjAJEiAIDSCAiA0gEAANQfEACx" +
    "QP//VB8AAPEM/v9UAACA0sgLgNIBAADUc3Zsb2dkAAA=",
};

const F_SETFD = 2;

/** The descriptor on which the placeholder reaches its host. */
export const PLACEHOLDER_CHANNEL_FD = 3;

/**
 * The placeholder's ELF image for `arch` (a Deno.build.arch name), or
 * undefined when there is none for it.
 *
 * @example
 * ```ts
 * import { logPlaceholderImage } from "./log_placeholder.ts";
 * logPlaceholderImage("x86_64")?.length; // 249
 * ```
 */
export function logPlaceholderImage(arch: string): Uint8Array<ArrayBuffer> | undefined {
  const text = IMAGES[arch];
  return text === undefined ? undefined : decodeImage(text);
}

/**
 * Load the placeholder for this machine into a memfd: undefined when it
 * cannot run here (another architecture, no /proc).
 *
 * @example
 * ```ts ignore
 * import { loadLogPlaceholder } from "./log_placeholder.ts";
 * const loaded = loadLogPlaceholder();
 * ```
 */
export function loadLogPlaceholder(): LoadedProgram | undefined {
  const image = logPlaceholderImage(Deno.build.arch);
  return image && loadProgram("runit-log-placeholder", image);
}

/**
 * Replace this process with the loaded placeholder: `channel` becomes its
 * descriptor 3, descriptor 0 stays. Returns only when exec failed (the
 * errno); the caller should then end with exitNow, since descriptor 3 may
 * have been the runtime's.
 *
 * @example
 * ```ts ignore
 * import { becomeLogPlaceholder, loadLogPlaceholder } from "./log_placeholder.ts";
 * becomeLogPlaceholder(loadLogPlaceholder()!, 9, ["svlogd", "-tt", "./main"]);
 * ```
 */
export function becomeLogPlaceholder(
  loaded: LoadedProgram,
  channel: number,
  argv: readonly string[],
): number {
  let path = loaded.path;
  if (loaded.fd === PLACEHOLDER_CHANNEL_FD) {
    // The channel goes there: run the program from another descriptor.
    try {
      path = `/proc/self/fd/${duplicateFd(loaded.fd, { min: 10 })}`;
    } catch (error) {
      return errnoOf(error);
    }
  }
  const exec = prepareExec(path, argv, { env: [] });
  const c = libc();
  defaultSignalsForExec();
  // dup2 clears close-on-exec on the copy; a channel already at 3 needs it cleared by hand.
  const moved = channel === PLACEHOLDER_CHANNEL_FD
    ? c.fcntl(channel, F_SETFD, 0)
    : c.dup2(channel, PLACEHOLDER_CHANNEL_FD);
  if (moved === -1) return errno();
  return exec.run();
}
