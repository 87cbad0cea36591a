/**
 * `ysco version`: ysco's version, the Deno and V8 versions, and the platform.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { hostGoarch, hostGoos } from "../buildinfo/platform.ts";
import { YSCO_VERSION } from "../self/ysco_version.ts";
import type { Command } from "./command.ts";
import { parseFlags } from "./flags.ts";

/** The version line, e.g. "ysco v0.1.0 deno 2.9.6 v8 15.0.245.2-rusty linux/amd64". */
export function versionLine(): string {
  return `ysco ${YSCO_VERSION} deno ${Deno.version.deno} v8 ${Deno.version.v8} ${hostGoos()}/${hostGoarch()}`;
}

/** The version command. */
export const versionCommand: Command = {
  name: "version",
  usage: "usage: ysco version",
  run(args, io) {
    const { rest } = parseFlags(args, {});
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    io.out(versionLine() + "\n");
    return Promise.resolve(0);
  },
};
