/**
 * The event core of a supervisor: one reactor for descriptors, one reaper
 * for children.
 *
 * @example
 * ```ts ignore
 * import { Children, Reactor } from "./mod.ts";
 * const reactor = new Reactor();
 * const children = new Children();
 * ```
 *
 * @module
 */

export * from "./reactor.ts";
export * from "./children.ts";
export * from "./writer.ts";
