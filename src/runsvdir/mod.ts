/**
 * runsvdir's parts: the directory scan, the service tree that supervises
 * every service in one process, and the `log` argument display.
 *
 * @example
 * ```ts ignore
 * import { scanServices } from "./mod.ts";
 * scanServices("/etc/service").entries.length;
 * ```
 *
 * @module
 */

export * from "./scan.ts";
export * from "./tree.ts";
export * from "./proctitle.ts";
export * from "./log_argument.ts";
export * from "./stderr_tap.ts";
