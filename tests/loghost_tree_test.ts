/**
 * A tree of 50 logged services under our runsvdir, their `log/run` written
 * in the three ways real trees write them: every log is hosted (no Deno
 * process per logger), every line arrives, the files have the right owners.
 */

import { assertEquals, assertOk } from "./assert.ts";
import { bin, pidOf, readText, Sandbox, testUnless, waitUntil } from "./helpers.ts";

const SERVICES = 50;

/** The three styles of `log/run`, for service `name` in `root`. */
function logRun(style: number, ours: string, options: { name: string; root: string }): string {
  switch (style) {
    case 0:
      return `exec ${ours}/svlogd -tt ./main`;
    case 1:
      return `exec ${ours}/chpst -u nobody ${ours}/svlogd -tt ${options.root}/var/log/${options.name}`;
    default:
      // Debian's runit-services: the directory computed in shell, made and
      // configured by `install`, then svlogd as the log user.
      return [
        `NAME=${options.name}`,
        `LOGDIR="${options.root}/var/log/runit/$NAME"`,
        "LOGUSER=nobody",
        "BUFFER=8192",
        'install -d -o "$LOGUSER" -m 0750 "$LOGDIR"',
        '[ -f ./config ] && install -m 0644 ./config "$LOGDIR/config"',
        `exec ${ours}/chpst -u \${LOGUSER} ${ours}/svlogd -tt -b $BUFFER "$LOGDIR"`,
      ].join("\n");
  }
}

function logDir(style: number, options: { name: string; root: string; service: string }): string {
  if (style === 0) return `${options.service}/log/main`;
  if (style === 1) return `${options.root}/var/log/${options.name}`;
  return `${options.root}/var/log/runit/${options.name}`;
}

/** pids of processes running Deno whose working directory is under `dir`. */
function denoProcessesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    try {
      const cwd = Deno.readLinkSync(`/proc/${pid}/cwd`);
      const exe = Deno.readLinkSync(`/proc/${pid}/exe`);
      if ((cwd === dir || cwd.startsWith(`${dir}/`)) && exe === Deno.execPath()) found.push(pid);
    } catch {
      // Gone, or a kernel thread.
    }
  }
  return found;
}

testUnless(
  "loghost: 50 services in the three log/run styles, all hosted by one runsvdir",
  Deno.uid() === 0 ? undefined : "chpst -u nobody needs root",
  async () => {
    await using sb = await Sandbox.create();
    await Deno.chmod(sb.dir, 0o755);
    const ours = await bin();
    const root = sb.dir;
    await Deno.mkdir(`${root}/var/log`, { recursive: true });
    const services: Array<{ name: string; style: number; service: string; dir: string }> = [];
    for (let i = 0; i < SERVICES; i++) {
      const name = `svc${i}`;
      const style = i % 3;
      const service = await sb.service(`sv/${name}`, {
        run: `echo "${name} first"\necho "${name} second"\nexec sleep 1000`,
        log: logRun(style, ours, { name, root }),
      });
      if (style === 0) await Deno.mkdir(`${service}/log/main`);
      if (style === 1) {
        await Deno.mkdir(`${root}/var/log/${name}`);
        await Deno.chown(`${root}/var/log/${name}`, 65534, 65534);
      }
      if (style === 2) await Deno.writeTextFile(`${service}/log/config`, "s100000\nn5\n");
      services.push({ name, style, service, dir: logDir(style, { name, root, service }) });
    }
    const runsvdir = sb.start(`${ours}/runsvdir`, [`${sb.dir}/sv`]);
    for (const { service, dir, name } of services) {
      await waitUntil(() => {
        const pid = pidOf(`${service}/log`);
        return pid > 0 && readText(`/proc/${pid}/comm`) === "svlogd\n" &&
          /^\S+ \S+ first\n\S+ \S+ second\n$/.test(readText(`${dir}/current`));
      }, { what: `${name} logged and hosted`, timeout: 60_000 });
    }
    for (const { style, dir, name } of services) {
      const text = readText(`${dir}/current`);
      assertOk(text.includes(`${name} first\n`) && text.includes(`${name} second\n`), text);
      const owner = style === 0 ? 0 : 65534;
      for (const file of ["current", "lock"]) {
        assertEquals(Deno.statSync(`${dir}/${file}`).uid, owner, `${dir}/${file}`);
      }
      if (style === 2) assertEquals(readText(`${dir}/config`), "s100000\nn5\n");
    }
    // One Deno process: runsvdir itself. The 50 log services are placeholders,
    // all run from runsvdir's one copy of the program (one page of text).
    assertEquals(denoProcessesUnder(sb.dir), [runsvdir.pid]);
    const programs = new Set(
      services.map(({ service }) => Deno.statSync(`/proc/${pidOf(`${service}/log`)}/exe`).ino),
    );
    assertEquals(programs.size, 1);
  },
);
