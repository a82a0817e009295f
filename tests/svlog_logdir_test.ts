import { assertEquals, assertMatch, assertOk } from "./assert.ts";
import { Children } from "../src/reactor/mod.ts";
import { LogDir } from "../src/svlog/logdir.ts";

const encoder = new TextEncoder();

function mode(path: string): string {
  return (Deno.statSync(path).mode! & 0o777).toString(8);
}

function rotated(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("@")).sort();
}

async function withDir(fn: (dir: string, make: () => LogDir, messages: string[]) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "svlog-logdir-" });
  const children = new Children();
  const messages: string[] = [];
  const made: LogDir[] = [];
  const make = () => {
    const logDir = new LogDir(dir, {
      reporter: { write: (text) => messages.push(text), verbose: true },
      children,
      lineMax: 10,
    });
    made.push(logDir);
    return logDir;
  };
  try {
    await fn(dir, make, messages);
  } finally {
    for (const logDir of made) {
      await logDir.idle();
      logDir.close();
    }
    children.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("logdir: the lock is exclusive", async () => {
  await withDir((dir, make, messages) => {
    assertEquals(make().open(), true);
    assertEquals(make().open(), false);
    assertEquals(
      messages.at(-1),
      `svlogd: warning: unable to lock directory: ${dir}: temporary failure\n`,
    );
    assertEquals(mode(`${dir}/lock`), "600");
    return Promise.resolve();
  });
});

Deno.test("logdir: rotation marks files 744, keeps n, removes processor leftovers", async () => {
  await withDir(async (dir, make, messages) => {
    await Deno.writeTextFile(`${dir}/config`, "s30\nn2\n");
    await Deno.writeTextFile(`${dir}/@400000000000000000000001.t`, "leftover");
    const log = make();
    assertEquals(log.open(), true);
    assertEquals(mode(`${dir}/current`), "644");
    for (let i = 0; i < 4; i++) {
      const line = encoder.encode(`line ${i} ${"x".repeat(20)}\n`);
      if (log.mustRotateBefore(line.length)) log.rotate();
      log.put(line);
      log.lineEnded();
      assertEquals(log.rotatePending, true);
      log.rotate();
    }
    const names = rotated(dir);
    assertEquals(names.length, 2);
    for (const name of names) assertEquals(mode(`${dir}/${name}`), "744");
    assertEquals(Deno.readTextFileSync(`${dir}/${names[1]}`), `line 3 ${"x".repeat(20)}\n`);
    assertEquals(Deno.readTextFileSync(`${dir}/current`), "");
    assertOk(messages.some((m) => m.startsWith(`svlogd: info: delete: ${dir}/@`)));
    log.put(encoder.encode("tail\n"));
    log.close();
    assertEquals(mode(`${dir}/current`), "744");
    assertEquals(Deno.readTextFileSync(`${dir}/current`), "tail\n");
  });
});

Deno.test("logdir: a line never starts in a file it does not fit", async () => {
  await withDir(async (dir, make) => {
    await Deno.writeTextFile(`${dir}/config`, "s5\n");
    const log = make();
    assertEquals(log.open(), true);
    assertEquals(log.mustRotateBefore(100), false); // empty current takes anything
    log.put(encoder.encode("abc\n"));
    log.lineEnded();
    assertEquals(log.rotatePending, false); // s below -l: no margin rotation
    assertEquals(log.mustRotateBefore(1), false);
    assertEquals(log.mustRotateBefore(2), true);
  });
});

Deno.test("logdir: the processor gets .u on 0, writes .t, state on 4 and 5", async () => {
  await withDir(async (dir, make, messages) => {
    await Deno.writeTextFile(`${dir}/config`, "!tr a-z A-Z; cat <&4; echo next >&5\n");
    await Deno.writeTextFile(`${dir}/state`, "before\n");
    const log = make();
    assertEquals(log.open(), true);
    log.put(encoder.encode("hello\n"));
    log.rotate();
    assertEquals(log.processorBusy, true);
    // A SIGCHLD listener alone does not keep the event loop alive (in
    // svlogd the reactor's pending wait does).
    const keepAlive = setInterval(() => {}, 20);
    await log.idle();
    clearInterval(keepAlive);
    const names = rotated(dir);
    assertEquals(names.length, 1);
    assertMatch(names[0], /\.s$/);
    assertEquals(mode(`${dir}/${names[0]}`), "744");
    assertEquals(Deno.readTextFileSync(`${dir}/${names[0]}`), "HELLO\nbefore\n");
    assertEquals(Deno.readTextFileSync(`${dir}/state`), "next\n");
    assertOk(messages.some((m) => m.startsWith(`svlogd: info: processed: ${dir}/@`)));
  });
});
