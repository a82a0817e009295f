/**
 * The libc boundary: the only FFI in the project. Everything outside
 * `src/sys/` speaks in the plain TypeScript types exported here.
 *
 * @example
 * ```ts ignore
 * import { spawn, reapOne } from "./mod.ts";
 * const pid = spawn(["/bin/true"]);
 * ```
 *
 * Modules on an applet's start path (main.ts, cli/, sv and the client side
 * of supervise/) import the files of this folder they use rather than this
 * entry: every module loaded costs each `sv` call start-up time.
 *
 * @module
 */

export * from "./errno.ts";
export * from "./fs.ts";
export * from "./clock.ts";
export * from "./process.ts";
export * from "./signals.ts";
export * from "./epoll.ts";
export * from "./inotify.ts";
export * from "./socket.ts";
export * from "./descriptors.ts";
export * from "./credentials.ts";
export * from "./limits.ts";
export * from "./exec.ts";
export * from "./invocation.ts";
export * from "./procfs.ts";
export * from "./reboot.ts";
