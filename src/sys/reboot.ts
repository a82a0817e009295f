/**
 * What process 1 needs from the kernel to end a system: reboot(2), sync(2),
 * and whether this is the initial PID namespace (where reboot(2) really
 * reboots) or a container's (where it ends the namespace's process 1, as if
 * killed by SIGHUP for a restart and by SIGINT for a halt or power-off).
 *
 * @module
 */

import { errno, libc } from "./libc.ts";
import { SysError } from "./errno.ts";
import { AT_FDCWD, statAt } from "./fs.ts";

/** glibc's reboot(2) commands (`<sys/reboot.h>`), as signed 32-bit values. */
export const RB = {
  AUTOBOOT: 0x01234567,
  HALT_SYSTEM: 0xcdef0123 | 0,
  POWER_OFF: 0x4321fedc,
  /** ctrl-alt-del sends SIGINT to process 1 instead of rebooting at once. */
  DISABLE_CAD: 0,
  ENABLE_CAD: 0x89abcdef | 0,
} as const;

/**
 * reboot(2) with one of {@link RB}'s commands; throws {@link SysError}
 * ("reboot") when the kernel refuses (EPERM without CAP_SYS_BOOT; EINVAL for
 * the ctrl-alt-del commands in a PID namespace other than the initial one).
 * On success a restart, halt or power-off does not return.
 *
 * @example
 * ```ts ignore
 * import { RB, rebootSystem } from "./reboot.ts";
 * rebootSystem(RB.DISABLE_CAD);
 * ```
 */
export function rebootSystem(command: number): void {
  if (libc().reboot(command) === -1) throw new SysError("reboot", errno());
}

/**
 * sync(2): write every file system's dirty data out.
 *
 * @example
 * ```ts
 * import { syncAll } from "./reboot.ts";
 * syncAll();
 * ```
 */
export function syncAll(): void {
  libc().sync();
}

/** The inode the kernel gives the initial PID namespace (PROC_PID_INIT_INO). */
const INITIAL_PID_NAMESPACE = 0xeffffffcn;

/**
 * Whether this process lives in the initial PID namespace (a host, not a
 * container). Taken as true when `/proc` cannot tell (not mounted yet, as
 * early in a host's boot).
 *
 * @example
 * ```ts
 * import { inInitialPidNamespace } from "./reboot.ts";
 * inInitialPidNamespace(); // false under `unshare --pid --fork --mount-proc`
 * ```
 */
export function inInitialPidNamespace(): boolean {
  try {
    const namespace = statAt(AT_FDCWD, "/proc/self/ns/pid");
    return namespace === undefined || namespace.ino === INITIAL_PID_NAMESPACE;
  } catch {
    return true;
  }
}
