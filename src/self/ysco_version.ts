/**
 * The version of ysco itself. Release builds (`deno task compile`) stamp it; a
 * checkout reports the development version.
 *
 * @module
 */

/** ysco's own version, a Go-style semantic version. */
export const YSCO_VERSION = "v0.1.0-dev";
