/**
 * svlogd's internals: the config parser, runit's pattern matcher, the line
 * stamps, one log directory, the line engine and the main loop.
 *
 * @example
 * ```ts
 * import { parseConfig, patternMatch } from "./mod.ts";
 * const config = parseConfig(new TextEncoder().encode("-*debug*\n"));
 * patternMatch(config.patterns[0].pattern, new TextEncoder().encode("x debug"));
 * ```
 *
 * @module
 */

export * from "./config.ts";
export * from "./pattern.ts";
export * from "./timestamp.ts";
export * from "./logdir.ts";
export * from "./engine.ts";
export * from "./daemon.ts";
