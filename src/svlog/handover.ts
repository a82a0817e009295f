/**
 * The handover between our svlogd and a supervisor that hosts its logging
 * (see host.ts): the message, and svlogd's side of it.
 *
 * A supervisor (our runsv or runsvdir) starts `log/run` with one end of a
 * unix socket pair at descriptor {@link LOGHOST_FD}, named in the
 * environment as `RUNIT_LOGHOST=4`. Whatever `log/run` does first (a shell,
 * `install -d`, `chpst -u log`), our svlogd, once it has opened, locked and
 * begun its log directories as the user it runs as, sends ONE message: its
 * options and directory names as JSON, and, attached, its standard input,
 * its standard error and each directory's descriptor, lock and `current`.
 * The kernel adds the sender's pid, uid and gid. The supervisor answers one
 * byte, `y` (it hosts the logging now) or `n`; on `y` svlogd becomes the
 * log placeholder (src/sys/log_placeholder.ts): same pid, ~10 KB.
 *
 * @module
 */

import {
  closeFd,
  errorText,
  exitNow,
  peerCredentials,
  receiveWithFds,
  sendWithFds,
  SOCK,
  socketType,
  waitReadable,
} from "../sys/mod.ts";
import { becomeLogPlaceholder, loadLogPlaceholder } from "../sys/log_placeholder.ts";
import type { LogDir } from "./logdir.ts";
import type { StampKind } from "./timestamp.ts";

/** The descriptor at which a supervisor gives `log/run` its host channel. */
export const LOGHOST_FD = 4;
/** The environment variable that names it. */
export const LOGHOST_ENV = "RUNIT_LOGHOST";
/**
 * How long svlogd waits for the host's answer before logging on its own (a
 * host answers at once; one that does not for this long is stuck).
 */
const ANSWER_MS = 30_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What svlogd's command line said, as the host needs it. */
export interface HandoverOptions {
  /** `-t` count. */
  stamp: StampKind;
  /** `-l`. */
  lineMax: number;
  /** `-r` byte, or 0. */
  replaceChar: number;
  /** `-R` bytes. */
  replaceSet: number[];
  /** `-v`. */
  verbose: boolean;
  /** The log directories as named on the command line (for messages). */
  names: string[];
}

/**
 * The handover message's text.
 *
 * @example
 * ```ts
 * import { decodeHandover, encodeHandover } from "./handover.ts";
 * const options = { stamp: 2 as const, lineMax: 1000, replaceChar: 0, replaceSet: [], verbose: false, names: ["main"] };
 * decodeHandover(encodeHandover(options))?.names; // ["main"]
 * ```
 */
export function encodeHandover(options: HandoverOptions): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify({ v: 1, ...options }));
}

/**
 * Parse a handover message; undefined when it is not one this version knows.
 *
 * @example
 * ```ts
 * import { decodeHandover } from "./handover.ts";
 * decodeHandover(new TextEncoder().encode("junk")); // undefined
 * ```
 */
export function decodeHandover(bytes: Uint8Array): HandoverOptions | undefined {
  try {
    const value = JSON.parse(decoder.decode(bytes));
    const ok = value?.v === 1 && [0, 1, 2, 3].includes(value.stamp) &&
      Number.isInteger(value.lineMax) && value.lineMax > 0 &&
      Number.isInteger(value.replaceChar) && Array.isArray(value.replaceSet) &&
      typeof value.verbose === "boolean" && Array.isArray(value.names) &&
      value.names.length > 0 && value.names.every((name: unknown) => typeof name === "string");
    if (!ok) return undefined;
    return {
      stamp: value.stamp,
      lineMax: value.lineMax,
      replaceChar: value.replaceChar & 0xff,
      replaceSet: value.replaceSet.map((byte: number) => byte & 0xff),
      verbose: value.verbose,
      names: value.names,
    };
  } catch {
    return undefined;
  }
}

/**
 * The host channel this svlogd was given, if any: the descriptor named by
 * `RUNIT_LOGHOST`, when it is a sequenced-packet socket whose other end
 * was made by our parent (a stale variable, or svlogd not exec'd directly
 * by the supervisor's child, gives none).
 *
 * @example
 * ```ts ignore
 * import { hostChannel } from "./handover.ts";
 * hostChannel(); // undefined when run by hand
 * ```
 */
export function hostChannel(): number | undefined {
  const text = Deno.env.get(LOGHOST_ENV);
  if (text === undefined || !/^\d{1,4}$/.test(text)) return undefined;
  const fd = Number(text);
  if (fd <= 2 || socketType(fd) !== SOCK.SEQPACKET) return undefined;
  try {
    return peerCredentials(fd).pid === Deno.ppid ? fd : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Offer `dirs` (all open, none with a processor) to the host on `channel`.
 * Returns false when the logging stays here (no host answered yes, or it
 * cannot be handed over); on success this process has become the log
 * placeholder and the call does not return.
 *
 * @example
 * ```ts ignore
 * import { handOver, hostChannel } from "./handover.ts";
 * const channel = hostChannel();
 * ```
 */
export function handOver(
  channel: number,
  dirs: readonly LogDir[],
  options: { handover: HandoverOptions; argv: readonly string[]; write: (text: string) => void },
): boolean {
  const fds = [0, 2];
  for (const dir of dirs) {
    const held = dir.descriptors();
    if (!held || dir.config.processor) return false;
    fds.push(held.dirFd, held.lockFd, held.currentFd);
  }
  // The host sends its own copy of the placeholder with its yes (all its
  // placeholders then share one page of text); ours is the fallback.
  const own = loadLogPlaceholder();
  if (!own) return false;
  let loaded = own;
  let accepted = false;
  try {
    sendWithFds(channel, encodeHandover(options.handover), fds);
    if (waitReadable(channel, ANSWER_MS)) {
      const answer = new Uint8Array(1);
      const got = receiveWithFds(channel, answer);
      accepted = got?.length === 1 && answer[0] === 0x79;
      const [program, ...rest] = got?.fds ?? [];
      for (const fd of rest) closeFd(fd);
      if (program !== undefined && accepted) {
        loaded = { fd: program, path: `/proc/self/fd/${program}` };
        closeFd(own.fd);
      } else closeFd(program ?? -1);
    }
  } catch {
    // The host is gone: log here.
  }
  if (!accepted) {
    closeFd(own.fd);
    return false;
  }
  // Hosted now: the host reads our input and writes our directories.
  const code = becomeLogPlaceholder(loaded, channel, options.argv);
  options.write(`svlogd: fatal: unable to run the log placeholder: ${errorText(code)}\n`);
  exitNow(111);
}
