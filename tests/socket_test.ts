import { assertEquals, assertOk } from "./assert.ts";
import { closeFd, sendDatagram, udpSocket } from "../src/sys/mod.ts";

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
  const reader = listener.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let heard = "";
  while (!heard.includes("\n")) heard += (await reader.read()).value ?? "";
  const port = Number(heard.split("\n")[0]);
  const fd = udpSocket();
  try {
    assertOk(fd >= 0);
    const bytes = new TextEncoder().encode("hello\n");
    assertEquals(sendDatagram(fd, bytes, { address: [127, 0, 0, 1], port }), bytes.length);
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      heard += chunk.value;
    }
    assertEquals(heard.split("\n")[1], JSON.stringify("hello\n"));
  } finally {
    closeFd(fd);
    reader.releaseLock();
    await listener.status;
  }
});
