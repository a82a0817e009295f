/**
 * Sockets: UDP datagrams to an IPv4 address (svlogd's `u` and `U`
 * forwarding), unix socket pairs that carry descriptors (a hosted
 * logger's handover), and abstract unix datagram sockets (a service's
 * `NOTIFY_SOCKET`).
 *
 * @module
 */

import { errno, libc } from "./libc.ts";
import { Errno, SysError } from "./errno.ts";
import { POLL, pollReady } from "./fs.ts";

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

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_PASSCRED = 16;
const SO_PEERCRED = 17;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x40000000;
/** The most descriptors one message carries (the kernel's SCM_MAX_FD is 253). */
const MAX_FDS = 64;
/** CMSG_SPACE of MAX_FDS ints, then of a struct ucred (16-byte headers, data aligned to 8). */
const CONTROL_SIZE = 16 + MAX_FDS * 4 + 16 + 16;

/** The longest abstract name: sun_path (108 bytes) less its leading NUL. */
const ABSTRACT_NAME_MAX = 107;

/**
 * A non-blocking, close-on-exec unix datagram socket bound to the abstract
 * address `name` (`@name` in systemd's notation: no file, gone with the
 * socket), with the sender's credentials attached to every datagram (see
 * {@link passCredentials}). Read it with {@link receiveWithFds}. Throws
 * {@link SysError} "bind NAME" (EADDRINUSE when another socket holds it).
 *
 * @example
 * ```ts
 * import { closeFd } from "./fs.ts";
 * import { abstractDatagramSocket } from "./socket.ts";
 * const fd = abstractDatagramSocket(`runit/example-${Deno.pid}`);
 * closeFd(fd);
 * ```
 */
export function abstractDatagramSocket(name: string): number {
  const path = new TextEncoder().encode(name);
  if (path.length > ABSTRACT_NAME_MAX) throw new SysError(`bind @${name}`, Errno.ENAMETOOLONG);
  const fd = libc().socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd === -1) throw new SysError("create unix datagram socket", errno());
  // struct sockaddr_un: the family, then a NUL and the name (no terminator).
  const sockaddr = new Uint8Array(3 + path.length);
  sockaddr[0] = AF_UNIX;
  sockaddr.set(path, 3);
  try {
    if (libc().bind(fd, sockaddr, sockaddr.length) === -1) {
      throw new SysError(`bind @${name}`, errno());
    }
    passCredentials(fd);
  } catch (error) {
    libc().close(fd);
    throw error;
  }
  return fd;
}

/** The socket types that {@link socketType} reports. */
export const SOCK = { STREAM: 1, DGRAM: 2, SEQPACKET: SOCK_SEQPACKET } as const;

/**
 * A connected pair of unix sequenced-packet sockets, both close-on-exec
 * (messages keep their boundaries and carry descriptors).
 *
 * @example
 * ```ts
 * import { closeFd } from "./fs.ts";
 * import { socketPair } from "./socket.ts";
 * const [a, b] = socketPair();
 * closeFd(a);
 * closeFd(b);
 * ```
 */
export function socketPair(): [number, number] {
  const fds = new Int32Array(2);
  const flags = SOCK_SEQPACKET | SOCK_CLOEXEC;
  if (libc().socketpair(AF_UNIX, flags, 0, new Uint8Array(fds.buffer)) === -1) {
    throw new SysError("create socket pair", errno());
  }
  return [fds[0], fds[1]];
}

function address(bytes: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
}

/** A struct msghdr (x86_64 and aarch64 agree) with one iovec over `data`. */
function messageHeader(data: Uint8Array, control: Uint8Array, controlLength: number) {
  const iov = new BigUint64Array([address(data), BigInt(data.length)]);
  const header = new Uint8Array(56);
  const view = new DataView(header.buffer);
  view.setBigUint64(16, address(new Uint8Array(iov.buffer)), true);
  view.setBigUint64(24, 1n, true);
  if (controlLength > 0) {
    view.setBigUint64(32, address(control), true);
    view.setBigUint64(40, BigInt(controlLength), true);
  }
  return { header, view, keep: [iov, data, control] };
}

/**
 * sendmsg(2) one message of `bytes` with the descriptors `fds` attached
 * (SCM_RIGHTS; the receiver gets copies). Returns the byte count sent;
 * throws {@link SysError} (EPIPE, not SIGPIPE, when the peer is gone).
 *
 * @example
 * ```ts
 * import { closeFd } from "./fs.ts";
 * import { receiveWithFds, sendWithFds, socketPair } from "./socket.ts";
 * const [a, b] = socketPair();
 * sendWithFds(a, new TextEncoder().encode("hi"), [0]);
 * const got = receiveWithFds(b, new Uint8Array(16));
 * for (const fd of got?.fds ?? []) closeFd(fd);
 * closeFd(a);
 * closeFd(b);
 * ```
 */
export function sendWithFds(
  fd: number,
  bytes: Uint8Array<ArrayBuffer>,
  fds: readonly number[],
): number {
  if (fds.length > MAX_FDS) throw new SysError("send descriptors", Errno.EINVAL);
  const control = new Uint8Array(16 + ((fds.length * 4 + 7) & ~7));
  const controlView = new DataView(control.buffer);
  controlView.setBigUint64(0, BigInt(16 + fds.length * 4), true);
  controlView.setInt32(8, SOL_SOCKET, true);
  controlView.setInt32(12, SCM_RIGHTS, true);
  fds.forEach((item, index) => controlView.setInt32(16 + index * 4, item, true));
  const message = messageHeader(bytes, control, fds.length > 0 ? control.length : 0);
  for (;;) {
    const n = Number(libc().sendmsg(fd, message.header, MSG_NOSIGNAL));
    if (n >= 0) return n;
    const code = errno();
    if (code !== Errno.EINTR) throw new SysError("send message", code);
  }
}

/** One message received by {@link receiveWithFds}. */
export interface Received {
  /** Bytes received (0 when the peer has closed its end). */
  length: number;
  /** The descriptors that came with it, close-on-exec, now ours to close. */
  fds: number[];
  /** The sender's pid, real uid and gid, when {@link passCredentials} was set. */
  sender?: PeerCredentials;
}

/**
 * recvmsg(2) one message into `buffer`, without blocking, with any
 * descriptors attached; undefined when none is waiting (EAGAIN). A message
 * longer than `buffer` is cut (the rest is lost, as for any datagram).
 *
 * @example
 * ```ts
 * import { closeFd } from "./fs.ts";
 * import { receiveWithFds, socketPair } from "./socket.ts";
 * const [a, b] = socketPair();
 * receiveWithFds(b, new Uint8Array(16)); // undefined: nothing sent yet
 * closeFd(a);
 * closeFd(b);
 * ```
 */
export function receiveWithFds(
  fd: number,
  buffer: Uint8Array<ArrayBuffer>,
): Received | undefined {
  const control = new Uint8Array(CONTROL_SIZE);
  const message = messageHeader(buffer, control, control.length);
  let n: number;
  for (;;) {
    n = Number(libc().recvmsg(fd, message.header, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
    if (n >= 0) break;
    const code = errno();
    if (code === Errno.EINTR) continue;
    if (code === Errno.EAGAIN) return undefined;
    throw new SysError("receive message", code);
  }
  const fds: number[] = [];
  let sender: PeerCredentials | undefined;
  const controlLength = Number(message.view.getBigUint64(40, true));
  const controlView = new DataView(control.buffer);
  for (let at = 0; at + 16 <= controlLength;) {
    const length = Number(controlView.getBigUint64(at, true));
    if (length < 16) break;
    const level = controlView.getInt32(at + 8, true);
    const type = controlView.getInt32(at + 12, true);
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let item = at + 16; item + 4 <= at + length; item += 4) {
        fds.push(controlView.getInt32(item, true));
      }
    } else if (level === SOL_SOCKET && type === SCM_CREDENTIALS && length >= 28) {
      sender = {
        pid: controlView.getInt32(at + 16, true),
        uid: controlView.getInt32(at + 20, true),
        gid: controlView.getInt32(at + 24, true),
      };
    }
    at += (length + 7) & ~7;
  }
  return sender ? { length: n, fds, sender } : { length: n, fds };
}

/**
 * Have the kernel attach the sender's pid, real uid and real gid to every
 * message received on `fd` (SO_PASSCRED): unlike SO_PEERCRED, which for a
 * socket pair names the process that created it, this names whoever sent
 * the message, and a sender without privileges cannot claim another's.
 *
 * @example
 * ```ts
 * import { passCredentials, socketPair } from "./socket.ts";
 * passCredentials(socketPair()[0]);
 * ```
 */
export function passCredentials(fd: number): void {
  const on = new Int32Array([1]);
  if (libc().setsockopt(fd, SOL_SOCKET, SO_PASSCRED, new Uint8Array(on.buffer), 4) === -1) {
    throw new SysError("set SO_PASSCRED", errno());
  }
}

/** Who is at the other end of a unix socket (SO_PEERCRED). */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/**
 * The pid, uid and gid of the process that connected (for a socket pair:
 * created) the peer socket, as the kernel recorded them then.
 *
 * @example
 * ```ts
 * import { peerCredentials, socketPair } from "./socket.ts";
 * const [a] = socketPair();
 * peerCredentials(a).pid === Deno.pid; // true
 * ```
 */
export function peerCredentials(fd: number): PeerCredentials {
  const credentials = intOptions(fd, SO_PEERCRED, 3);
  if (credentials === undefined) throw new SysError("read peer credentials", errno());
  return { pid: credentials[0], uid: credentials[1], gid: credentials[2] };
}

/**
 * The type of the socket `fd` (see {@link SOCK}), or -1 when `fd` is not an
 * open socket.
 *
 * @example
 * ```ts
 * import { SOCK, socketPair, socketType } from "./socket.ts";
 * socketType(socketPair()[0]) === SOCK.SEQPACKET; // true
 * socketType(-1); // -1
 * ```
 */
export function socketType(fd: number): number {
  return intOptions(fd, SO_TYPE)?.[0] ?? -1;
}

/** getsockopt(SOL_SOCKET, `option`) into `count` ints; undefined on failure (errno set). */
function intOptions(fd: number, option: number, count = 1): Int32Array | undefined {
  const values = new Int32Array(count);
  const length = new Uint32Array([values.byteLength]);
  const result = libc().getsockopt(
    fd,
    SOL_SOCKET,
    option,
    new Uint8Array(values.buffer),
    new Uint8Array(length.buffer),
  );
  return result === -1 ? undefined : values;
}

/**
 * poll(2) one descriptor for input, blocking up to `ms` (for a short,
 * bounded wait before the reactor exists): true when it is readable or has
 * hung up.
 *
 * @example
 * ```ts
 * import { socketPair, waitReadable } from "./socket.ts";
 * waitReadable(socketPair()[0], 0); // false: nothing sent
 * ```
 */
export function waitReadable(fd: number, ms: number): boolean {
  return pollReady(fd, { events: POLL.IN, ms });
}
