/**
 * `ysco licenses`: the licenses of ysco and of everything bundled in it.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { LICENSES } from "./licenses_data.ts";
import type { Command } from "./command.ts";
import { parseFlags } from "./flags.ts";

/** The licenses command. */
export const licensesCommand: Command = {
  name: "licenses",
  usage: `usage: ysco licenses

Prints the license of ysco, of the Deno runtime of release builds, and of every npm
package bundled in ysco, each under a header "# NAME VERSION (SPDX)".`,
  run(args, io) {
    const { rest } = parseFlags(args, {});
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    io.out(formatLicenses());
    return Promise.resolve(0);
  },
};

/** Every license under its header, as the original prints its embedded licenses. */
export function formatLicenses(): string {
  const parts = LICENSES.map((l) =>
    `# ${l.name}${l.version ? ` ${l.version}` : ""} (${l.spdx})\n\n${l.text}`
  );
  parts.push(
    "# note\n\nRelease builds contain the Deno runtime, which includes V8 and Rust crates under " +
      "their own\nlicenses: see https://github.com/denoland/deno.\n",
  );
  return parts.join("\n\n");
}
