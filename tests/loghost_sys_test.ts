/**
 * The sys pieces of log hosting: socket pairs that carry descriptors and the
 * sender's credentials, the peer of a socket pair, fchown, and listing a
 * directory known only by its descriptor.
 */

import { assertEquals, assertOk } from "./assert.ts";
import {
  AT_FDCWD,
  chownFd,
  closeFd,
  Errno,
  listDir,
  makePipe,
  O,
  openAt,
  passCredentials,
  peerCredentials,
  readFd,
  receiveWithFds,
  sendWithFds,
  SOCK,
  socketPair,
  socketType,
  spawn,
  SysError,
  waitFor,
  waitReadable,
  writeFd,
} from "../src/sys/mod.ts";
import { bin, Sandbox } from "./helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function cloexec(fd: number): boolean {
  const flags = /^flags:\s+([0-7]+)$/m.exec(Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`));
  return (parseInt(flags![1], 8) & O.CLOEXEC) !== 0;
}

Deno.test("socket pair: a message carries descriptors that work in the receiver", () => {
  const [a, b] = socketPair();
  const [readEnd, writeEnd] = makePipe();
  try {
    assertEquals(socketType(a), SOCK.SEQPACKET);
    assertEquals(socketType(readEnd), -1);
    assertOk(cloexec(a) && cloexec(b));
    assertEquals(receiveWithFds(b, new Uint8Array(16)), undefined);
    assertOk(!waitReadable(b, 0));
    assertEquals(sendWithFds(a, encoder.encode("hello"), [writeEnd, 0]), 5);
    assertOk(waitReadable(b, 1000));
    const got = receiveWithFds(b, new Uint8Array(64))!;
    assertEquals(got.length, 5);
    assertEquals(got.fds.length, 2);
    assertOk(got.fds.every((fd) => cloexec(fd) && fd !== writeEnd));
    // The received copy writes into the same pipe.
    writeFd(got.fds[0], encoder.encode("through the copy"));
    const buffer = new Uint8Array(64);
    assertEquals(decoder.decode(buffer.subarray(0, readFd(readEnd, buffer))), "through the copy");
    for (const fd of got.fds) closeFd(fd);
    // Message boundaries hold; no descriptors, no credentials unless asked.
    sendWithFds(a, encoder.encode("x"), []);
    sendWithFds(a, encoder.encode("yz"), []);
    assertEquals(receiveWithFds(b, new Uint8Array(8)), { length: 1, fds: [] });
    assertEquals(receiveWithFds(b, new Uint8Array(8)), { length: 2, fds: [] });
    // The peer gone: end of file for the reader, EPIPE (not SIGPIPE) for a writer.
    closeFd(a);
    assertEquals(receiveWithFds(b, new Uint8Array(8)), { length: 0, fds: [] });
  } finally {
    for (const fd of [a, b, readEnd, writeEnd]) closeFd(fd);
  }
});

Deno.test("socket pair: EPIPE when the peer is gone", () => {
  const [a, b] = socketPair();
  closeFd(b);
  let code = 0;
  try {
    sendWithFds(a, encoder.encode("x"), []);
  } catch (error) {
    code = error instanceof SysError ? error.errno : -1;
  } finally {
    closeFd(a);
  }
  assertEquals(code, Errno.EPIPE);
});

const SENDER = `
import { sendWithFds } from "${new URL("../src/sys/mod.ts", import.meta.url).href}";
sendWithFds(4, new TextEncoder().encode("from child"), [0]);
`;

Deno.test("socket pair: the receiver learns who sent (pid, uid), not who made the pair", async () => {
  await using sb = await Sandbox.create();
  const script = `${sb.dir}/sender.ts`;
  await Deno.writeTextFile(script, SENDER);
  await Deno.chmod(sb.dir, 0o755);
  const [ours, theirs] = socketPair();
  passCredentials(ours);
  const root = Deno.uid() === 0;
  // As root, the sender runs as nobody (chpst -u), which the credentials show.
  const argv = [
    ...(root ? [`${await bin()}/chpst`, "-u", "nobody"] : []),
    Deno.execPath(),
    "run",
    "--allow-all",
    script,
  ];
  let pid = 0;
  try {
    pid = spawn(argv, { dup: [[4, theirs]], cwd: sb.dir });
    closeFd(theirs);
    assertOk(waitReadable(ours, 30_000), "the child's message");
    const got = receiveWithFds(ours, new Uint8Array(64))!;
    assertEquals(got.length, "from child".length);
    assertEquals(got.sender?.pid, pid);
    assertEquals(got.sender?.uid, root ? 65534 : Deno.uid());
    assertEquals(got.fds.length, 1);
    for (const fd of got.fds) closeFd(fd);
    // SO_PEERCRED names the process that created the pair: us.
    assertEquals(peerCredentials(ours).pid, Deno.pid);
    assertEquals((await waitFor(pid)) >> 8, 0);
  } finally {
    closeFd(ours);
    closeFd(theirs);
  }
});

Deno.test("listDir lists a directory by descriptor, as readDir does", async () => {
  await using sb = await Sandbox.create();
  for (const name of ["a", "@400000005f5e100000000000.s", "current", "é"]) {
    await Deno.writeTextFile(`${sb.dir}/${name}`, "");
  }
  await Deno.mkdir(`${sb.dir}/sub`);
  const dirFd = openAt(AT_FDCWD, sb.dir, { flags: O.RDONLY | O.DIRECTORY | O.CLOEXEC });
  try {
    const expected = [...Deno.readDirSync(sb.dir)].map((entry) => entry.name).sort();
    assertEquals(listDir(dirFd, ".").map((entry) => entry.name).sort(), expected);
    assertEquals(listDir(dirFd, "sub"), []);
    // Many entries span several getdents64 calls.
    for (let i = 0; i < 500; i++) await Deno.writeTextFile(`${sb.dir}/sub/file-${i}`, "");
    assertEquals(listDir(dirFd, "sub").length, 500);
  } finally {
    closeFd(dirFd);
  }
});

Deno.test({
  name: "chownFd gives an open file to another user",
  ignore: Deno.uid() !== 0,
  async fn() {
    await using sb = await Sandbox.create();
    const fd = openAt(AT_FDCWD, `${sb.dir}/f`, { flags: O.WRONLY | O.CREAT | O.CLOEXEC });
    try {
      chownFd(fd, 65534, 65534);
      const stat = Deno.statSync(`${sb.dir}/f`);
      assertEquals([stat.uid, stat.gid], [65534, 65534]);
    } finally {
      closeFd(fd);
    }
  },
});
