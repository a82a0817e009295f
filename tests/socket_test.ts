import { assertEquals, assertOk } from "./assert.ts";
import { closeFd, sendDatagram, udpSocket } from "../src/sys/mod.ts";
import { collect, waitUntil, within } from "./helpers.ts";

const UDP_ECHO = `
import dgram from "node:dgram";
const socket = dgram.createSocket("udp4");
socket.on("message", (m) => {
  console.log(JSON.stringify(new TextDecoder().decode(m)));
  socket.close();
});
socket.bind(0, "127.0.0.1", () => console.log(socket.address().port));
`;

Deno.test("socket: a datagram reaches a loopback listener", async () => {
  // The test itself has no net permission; a child Deno with it listens.
  const listener = new Deno.Command(Deno.execPath(), {
    args: ["eval", UDP_ECHO],
    stdout: "piped",
  }).spawn();
  const heard = collect(listener.stdout);
  let fd = -1;
  try {
    const port = Number(
      await waitUntil(() => /^(\d+)\n/.exec(heard.text())?.[1], { what: "the listener's port" }),
    );
    fd = udpSocket();
    assertOk(fd >= 0);
    const bytes = new TextEncoder().encode("hello\n");
    assertEquals(sendDatagram(fd, bytes, { address: [127, 0, 0, 1], port }), bytes.length);
    // The listener exits after one datagram.
    await waitUntil(() => heard.ended(), { what: "the datagram" });
    assertEquals(heard.text().split("\n")[1], JSON.stringify("hello\n"));
  } finally {
    if (fd >= 0) closeFd(fd);
    try {
      listener.kill();
    } catch {
      // Already gone after the datagram.
    }
    await within(listener.status, { what: "the listener to exit" });
  }
});
