import { assertEquals, assertOk } from "./assert.ts";
import { Children, Reactor } from "../src/reactor/mod.ts";
import { AT_FDCWD, closeFd, makeFifoAt, O, openAt, readFd, writeFd } from "../src/sys/mod.ts";
import { Sandbox, waitUntil } from "./helpers.ts";

function threads(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  return Number(/^Threads:\s+(\d+)/m.exec(status)![1]);
}

Deno.test("reactor: 600 FIFOs on a constant number of threads", async () => {
  await using sb = await Sandbox.create();
  const reactor = new Reactor();
  const fds: number[] = [];
  const seen = new Set<number>();
  const before = threads();
  for (let i = 0; i < 600; i++) {
    const path = `${sb.dir}/fifo${i}`;
    makeFifoAt(AT_FDCWD, path, 0o600);
    const fd = openAt(AT_FDCWD, path, { flags: O.RDWR | O.NONBLOCK | O.CLOEXEC });
    fds.push(fd);
    reactor.watch(fd, () => {
      const buffer = new Uint8Array(16);
      while (readFd(fd, buffer) > 0) seen.add(fd);
    });
  }
  const running = reactor.run();
  try {
    // (How fast they drain: bench/timing.ts.)
    for (const fd of fds) writeFd(fd, new Uint8Array([0x75]));
    await waitUntil(() => seen.size === 600, { what: "every FIFO to be read" });
    assertEquals(reactor.size, 600);
    // One epoll wait in flight, whatever the number of descriptors.
    assertOk(threads() <= before + 3, `threads grew from ${before} to ${threads()}`);
  } finally {
    reactor.stop();
    await running;
    for (const fd of fds) {
      reactor.unwatch(fd);
      closeFd(fd);
    }
    reactor.close();
  }
});

Deno.test("reactor: a throwing handler does not disturb the others", async () => {
  await using sb = await Sandbox.create();
  const errors: unknown[] = [];
  const reactor = new Reactor({ onError: (error) => errors.push(error) });
  const fds = [0, 1].map((i) => {
    makeFifoAt(AT_FDCWD, `${sb.dir}/f${i}`, 0o600);
    return openAt(AT_FDCWD, `${sb.dir}/f${i}`, { flags: O.RDWR | O.NONBLOCK | O.CLOEXEC });
  });
  let good = 0;
  reactor.watch(fds[0], () => {
    readFd(fds[0], new Uint8Array(8));
    throw new Error("bad handler");
  });
  reactor.watch(fds[1], () => {
    readFd(fds[1], new Uint8Array(8));
    good++;
  });
  const running = reactor.run();
  writeFd(fds[0], new Uint8Array([1]));
  writeFd(fds[1], new Uint8Array([1]));
  await waitUntil(() => good === 1 && errors.length === 1, { what: "both handlers" });
  reactor.stop();
  await running;
  fds.forEach((fd) => closeFd(fd));
  reactor.close();
});

Deno.test("children: every exit reaches its owner with its status", async () => {
  const children = new Children();
  try {
    const codes = await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) => children.run(["/bin/sh", "-c", `exit ${i}`], {}).then((status) => status >> 8),
      ),
    );
    assertEquals(codes, Array.from({ length: 40 }, (_, i) => i));
    assertEquals(children.running, 0);
  } finally {
    children.close();
  }
});
