/**
 * Byte-compatibility with runit: Debian's sv drives our runsv, our sv drives
 * Debian's runsv, and all four combinations print the same lines (pids and
 * seconds aside) with the same exit codes.
 */
import { assertEquals } from "./assert.ts";
import { bin, hasDebianRunit, normalizeStatus, Sandbox, waitUntil } from "./helpers.ts";

const ignore = !hasDebianRunit();
if (ignore) {
  console.log("interop: skipped: Debian's runit (/usr/bin/runsv, /usr/bin/sv) is not installed");
}

async function serviceTree(sb: Sandbox, name: string, options: { down?: boolean } = {}) {
  return await sb.service(name, {
    run: "exec sleep 100",
    log: "exec cat > /dev/null",
    down: options.down,
  });
}

function running(dir: string): boolean {
  try {
    return /^run/.test(Deno.readTextFileSync(`${dir}/log/supervise/stat`));
  } catch {
    return false;
  }
}

Deno.test({
  name: "interop: Debian's sv and ours agree on Debian's runsv and ours",
  ignore,
  async fn() {
    await using sb = await Sandbox.create();
    const ourSv = `${await bin()}/sv`;
    const theirs = await serviceTree(sb, "theirs");
    const ours = await serviceTree(sb, "ours");
    sb.start("/usr/bin/runsv", [theirs]);
    sb.start(`${await bin()}/runsv`, [ours]);
    await waitUntil(() => running(theirs) && running(ours), { what: "both supervisors" });
    const commands = [
      ["status"],
      ["-v", "down"],
      ["status"],
      ["-v", "up"],
      ["-v", "pause"],
      ["status"],
      ["-v", "cont"],
      ["-v", "once"],
      ["status"],
      ["-v", "down"],
      ["-v", "up"],
      ["check"],
      ["start"],
      ["stop"],
      ["try-restart"],
      ["status"],
      ["up"],
      ["-w", "3", "exit"],
      ["status"],
      ["up"],
    ];
    for (const command of commands) {
      const outputs: string[] = [];
      for (const dir of ["theirs", "ours"]) {
        for (const program of ["/usr/bin/sv", ourSv]) {
          const result = await sb.run(program, [...command, `./${dir}`]);
          outputs.push(
            `${normalizeStatus(result.stdout).replaceAll(`./${dir}`, "./X")}rc=${result.code}`,
          );
        }
      }
      const label = `sv ${command.join(" ")}`;
      assertEquals(outputs[1], outputs[0], `${label}: our sv vs Debian's sv, on Debian's runsv`);
      assertEquals(outputs[2], outputs[0], `${label}: Debian's sv on our runsv`);
      assertEquals(outputs[3], outputs[0], `${label}: our sv on our runsv`);
    }
  },
});

Deno.test({
  name: "interop: normally-down services and supervise files read the same",
  ignore,
  async fn() {
    await using sb = await Sandbox.create();
    const ourSv = `${await bin()}/sv`;
    const theirs = await serviceTree(sb, "theirs", { down: true });
    const ours = await serviceTree(sb, "ours", { down: true });
    sb.start("/usr/bin/runsv", [theirs]);
    sb.start(`${await bin()}/runsv`, [ours]);
    await waitUntil(() => running(theirs) && running(ours), { what: "both supervisors" });
    for (const command of [["status"], ["-v", "up"], ["status"], ["-v", "down"], ["status"]]) {
      const outputs = [];
      for (const dir of [theirs, ours]) {
        for (const program of ["/usr/bin/sv", ourSv]) {
          const result = await sb.run(program, [...command, dir]);
          outputs.push(normalizeStatus(result.stdout).replaceAll(dir, "X") + result.code);
        }
      }
      assertEquals(new Set(outputs).size, 1, `sv ${command.join(" ")}: ${outputs.join(" | ")}`);
    }
    // The same text in stat, the same bytes in status (time and pid aside).
    for (const unit of ["", "log/"]) {
      const stat = [theirs, ours].map((dir) =>
        Deno.readTextFileSync(`${dir}/${unit}supervise/stat`)
      );
      assertEquals(stat[0], stat[1]);
      const status = [theirs, ours].map((
        dir,
      ) => [...Deno.readFileSync(`${dir}/${unit}supervise/status`).subarray(16)]);
      assertEquals(status[0], status[1]);
      const pid = [theirs, ours].map((dir) =>
        Deno.readTextFileSync(`${dir}/${unit}supervise/pid`).replace(/\d+/, "N")
      );
      assertEquals(pid[0], pid[1]);
    }
  },
});
