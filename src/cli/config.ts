/**
 * `ysco config`, `ysco configdefaults` and `ysco testconfig [FILE]`: the annotated
 * configuration with every key, the same with defaults, and a validity check.
 *
 * @module
 */

import { describeConfig } from "../config/describe.ts";
import { validateConfig } from "../config/load.ts";
import { ConfigError } from "../config/parse.ts";
import { errorMessage, UsageError } from "../errors.ts";
import type { Command } from "./command.ts";
import { parseFlags } from "./flags.ts";

/** `ysco config`. */
export const configCommand: Command = {
  name: "config",
  usage: `usage: ysco config >ys/ysco.toml

Prints the configuration with every key at its built-in default, each with its
documentation and an example as comments: valid TOML that is safe to use as it is
(only auth_file, which has no default, is set to ys/password.txt).`,
  run(args, io) {
    const { rest } = parseFlags(args, {});
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    io.out(describeConfig("annotated"));
    return Promise.resolve(0);
  },
};

/** `ysco configdefaults`. */
export const configDefaultsCommand: Command = {
  name: "configdefaults",
  usage: `usage: ysco configdefaults

Prints the annotated configuration with every key at its built-in default.`,
  run(args, io) {
    const { rest } = parseFlags(args, {});
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    io.out(describeConfig("defaults"));
    return Promise.resolve(0);
  },
};

/** `ysco testconfig [FILE]`. */
export const testConfigCommand: Command = {
  name: "testconfig",
  usage: `usage: ysco testconfig [FILE]

Checks a configuration file (standard input when FILE is absent) as \`ysco run\` and
the admin page do, including the files it names (relative to the working
directory). Prints every problem with its line and exits 1 when it is invalid;
exits 0 when valid, silent unless something deserves a warning (a short admin
password), printed as "warning: ...".`,
  async run(args, io) {
    const { rest } = parseFlags(args, {});
    if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
    const file = rest[0];
    let text: string;
    try {
      text = file === undefined ? await readStdin() : await Deno.readTextFile(file);
    } catch (err) {
      io.err(`ysco testconfig: cannot read ${file ?? "standard input"}: ${errorMessage(err)}\n`);
      return 1;
    }
    try {
      const { warnings } = await validateConfig(text, file ?? "stdin");
      for (const warning of warnings) io.err(`warning: ${warning}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.err(err.message + "\n");
      return 1;
    }
  },
};

async function readStdin(): Promise<string> {
  return await new Response(Deno.stdin.readable).text();
}
