/**
 * The permissions runit runs with, in one place for the launcher and for
 * `deno compile`. FFI reaches libc (posix_spawn, epoll, flock …); the rest
 * is reading and writing service directories and reading the environment.
 *
 * @module
 */

/** Explicit permission flags (never -A). */
export const PERMISSIONS: readonly string[] = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
];
