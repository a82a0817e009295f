/**
 * UDP datagrams to an IPv4 address (svlogd's `u` and `U` forwarding).
 *
 * @module
 */

import { errno, libc } from "./libc.ts";
import { SysError } from "./errno.ts";

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

/**
 * A non-blocking, close-on-exec IPv4 UDP socket.
 *
 * @example
 * ```ts
 * import { udpSocket } from "./socket.ts";
 * const fd = udpSocket();
 * ```
 */
export function udpSocket(): number {
  const fd = libc().socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd === -1) throw new SysError("create udp socket", errno());
  return fd;
}

/**
 * sendto(2) one datagram to `address` (four octets) and `port`. Returns the
 * byte count sent, or -1 (errno is then the caller's to ignore).
 *
 * @example
 * ```ts ignore
 * import { sendDatagram, udpSocket } from "./socket.ts";
 * sendDatagram(udpSocket(), new TextEncoder().encode("hi\n"), { address: [127, 0, 0, 1], port: 514 });
 * ```
 */
export function sendDatagram(
  fd: number,
  bytes: Uint8Array<ArrayBuffer>,
  options: { address: readonly number[]; port: number },
): number {
  const sockaddr = new Uint8Array(16);
  sockaddr[0] = AF_INET & 0xff;
  sockaddr[1] = AF_INET >> 8;
  sockaddr[2] = (options.port >> 8) & 0xff;
  sockaddr[3] = options.port & 0xff;
  sockaddr.set(options.address.slice(0, 4), 4);
  return Number(libc().sendto(fd, bytes, BigInt(bytes.length), 0, sockaddr, 16));
}
