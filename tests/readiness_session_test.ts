/**
 * Review of the readiness landing: the descriptors a supervisor takes for
 * readiness (a notification-fd pipe, a notify socket) are all given back,
 * whatever way a service comes and goes: restarts, a `./run` that cannot
 * start, removal from runsvdir; and the usual `notification-fd` (3) leaves
 * a `runsvdir -P` service an ordinary member of its session, as any other.
 */

import { assertEquals, assertOk } from "./assert.ts";
import { bin, onPath, processesUnder, Sandbox, waitRunning, waitUntil } from "./helpers.ts";
import { sessionOf } from "./proc.ts";
import { sessionHelperImage } from "../src/sys/session_helper.ts";

/** `pid`'s open descriptors, each as `N -> what it is`, sorted. */
function descriptors(pid: number): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      found.push(`${entry.name} -> ${Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`)}`);
    } catch {
      // Closed meanwhile.
    }
  }
  return found.sort();
}

Deno.test("readiness: runsvdir holds no descriptor of a readiness service once it is removed", async () => {
  await using sb = await Sandbox.create();
  const services = `${sb.dir}/services`;
  await Deno.mkdir(services);
  const runsvdir = sb.start(`${await bin()}/runsvdir`, [services]);
  // A plain service first, so that what runsvdir opens on first use is in the baseline.
  const plain = await sb.service("services/plain", { run: "exec sleep 100" });
  await waitRunning(plain);
  await Deno.remove(plain, { recursive: true });
  await waitUntil(() => !descriptors(runsvdir.pid).some((fd) => fd.includes("/services/")), {
    what: "the plain service's supervisor to go",
  });
  const before = descriptors(runsvdir.pid);

  const socket = await sb.service("services/socket", { run: "exec sleep 100" });
  await Deno.writeTextFile(`${socket}/notify-socket`, "");
  // Restarts at once (it runs over a second): a new pipe each run.
  const pipe = await sb.service("services/pipe", { run: "sleep 1.1; exit 1" });
  await Deno.writeTextFile(`${pipe}/notification-fd`, "3\n");
  // Never starts: the pipe made for it must be closed each time.
  const broken = await sb.service("services/broken", { run: "exec sleep 100" });
  await Deno.writeTextFile(`${broken}/notification-fd`, "3\n");
  await Deno.chmod(`${broken}/run`, 0o644);
  await waitRunning(socket);
  const first = await waitRunning(pipe);
  await waitRunning(pipe, { not: first, timeout: 10_000 });
  // The notify socket and the live run's pipe, on top of the baseline.
  const count = (fds: string[], kind: string) => fds.filter((fd) => fd.includes(kind)).length;
  const held = descriptors(runsvdir.pid);
  assertEquals(
    [
      count(held, "socket:") - count(before, "socket:"),
      count(held, "pipe:") - count(before, "pipe:"),
    ],
    [1, 1],
  );

  for (const dir of [socket, pipe, broken]) await Deno.remove(dir, { recursive: true });
  await waitUntil(() => processesUnder(services).length === 0, { what: "the services to end" });
  await waitUntil(() => descriptors(runsvdir.pid).join("\n") === before.join("\n"), {
    what: "runsvdir's descriptors back to what they were",
  }).catch(() => assertEquals(descriptors(runsvdir.pid), before));
});

Deno.test({
  name: "runsvdir -P: with notification-fd 3, `exec setsid sleep` stays up as one process, ready",
  ignore: onPath("setsid") === undefined,
  async fn() {
    await using sb = await Sandbox.create();
    const dir = await sb.service("service/web", { run: "echo >&3\nexec setsid sleep 1000" });
    // The usual number: it is also the one the session helper used for itself.
    await Deno.writeTextFile(`${dir}/notification-fd`, "3\n");
    sb.start(`${await bin()}/runsvdir`, ["-P", `${sb.dir}/service`]);
    const pid = await waitRunning(dir);
    // Up for two seconds with the same pid: util-linux setsid forks (and
    // exits) when it leads its process group, which runit's ./run never does.
    await waitUntil(async () => {
      const status = await sb.run(`${await bin()}/sv`, ["status", dir]);
      const match = /^run: .*\(pid (\d+)\) (\d+)s/.exec(status.stdout);
      assertOk(match && Number(match[1]) === pid, `pid changed: ${status.stdout}`);
      // And its readiness is seen, through the descriptor it asked for.
      return Number(match[2]) >= 2 && status.stdout.includes("s, ready");
    }, { what: "two seconds up, ready", timeout: 15_000, interval: 200 });
    assertEquals(sessionOf(pid), pid);
    const sleeps = processesUnder(sb.dir).filter((p) =>
      Deno.readTextFileSync(`/proc/${p}/comm`) === "sleep\n"
    );
    assertEquals(sleeps, [pid]);
  },
});

/** Run a helper image under qemu-user with fd 3 and fd 5 on files; what each got, and the output. */
async function helperUnderQemu(sb: Sandbox, image: Uint8Array, program: string[]) {
  const helper = `${sb.dir}/helper-${crypto.randomUUID()}`;
  await Deno.writeFile(helper, image, { mode: 0o755 });
  const quoted = program.map((arg) => `'${arg}'`).join(" ");
  const result = await sb.run("/bin/sh", [
    "-c",
    `${onPath("qemu-aarch64")} ${helper} ${quoted} 3>${helper}.3 5>${helper}.5; echo "exit $?"`,
  ]);
  const words = (path: string) => {
    const bytes = Deno.readFileSync(path);
    return [...new Int32Array(bytes.buffer, 0, bytes.length >> 2)];
  };
  return { fd3: words(`${helper}.3`), fd5: words(`${helper}.5`), stdout: result.stdout };
}

Deno.test({
  name: "session helper: the aarch64 image built for fd 5 reports there and leaves fd 3 alone",
  ignore: onPath("qemu-aarch64") === undefined,
  async fn() {
    await using sb = await Sandbox.create();
    const image = sessionHelperImage("aarch64", { statusFd: 5 })!;
    // qemu-user refuses CLONE_PARENT: the helper's own failure, reported on fd 5.
    const refused = await helperUnderQemu(sb, image, ["/bin/true", "true"]);
    assertEquals([refused.fd3, refused.fd5, refused.stdout], [[], [-22], "exit 111\n"]);
    // With a plain fork (mov x0, #0x11), the program runs with fd 3 still open and fd 5 closed.
    const plain = image.slice();
    const movFlags = [0x20, 0x02, 0x90, 0xd2]; // mov x0, #0x8011
    const at = plain.findIndex((_, i) => movFlags.every((byte, j) => plain[i + j] === byte));
    assertOk(at > 0, "the clone flags instruction");
    plain[at + 2] = 0x80;
    const ran = await helperUnderQemu(sb, plain, [
      "/bin/sh",
      "sh",
      "-c",
      "test -e /proc/self/fd/3 && echo fd3; test -e /proc/self/fd/5 || echo no-fd5",
    ]);
    assertEquals(ran.stdout.trim().split("\n").sort(), ["exit 0", "fd3", "no-fd5"]);
    assertEquals(ran.fd3, []);
    assertEquals(ran.fd5.length, 1);
  },
});
