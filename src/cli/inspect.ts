/**
 * `ysco inspect [--json] BINARY...`: the build information of Go binaries that
 * matters to ysco (what `go version -m` shows).
 *
 * @module
 */

import { type BuildInfo, BuildInfoError, readBuildInfo } from "../buildinfo/mod.ts";
import { errorMessage, UsageError } from "../errors.ts";
import type { Command } from "./command.ts";
import { formatFlags, parseFlags } from "./flags.ts";

const FLAGS = {
  json: { type: "boolean", help: "print one JSON array with an object per binary" },
} as const;

/** The inspect command. */
export const inspectCommand: Command = {
  name: "inspect",
  usage: `usage: ysco inspect [-json] BINARY...

Reads the build information that Go embeds in binaries: main package, module path,
version and sum, Go version, target platform and build settings. Exits 0 when every
binary was read, 1 otherwise (one line per failure on stderr).

flags:
${formatFlags(FLAGS)}`,
  async run(args, io) {
    const { flags, rest } = parseFlags(args, FLAGS, { stopAtOperand: false });
    if (rest.length === 0) throw new UsageError("missing BINARY");
    const results: Array<{ file: string; info?: BuildInfo; error?: string }> = [];
    for (const file of rest) {
      try {
        results.push({ file, info: await readBuildInfo(file) });
      } catch (err) {
        if (!(err instanceof BuildInfoError)) throw err;
        results.push({ file, error: err.reason });
        io.err(`ysco inspect: ${errorMessage(err)}\n`);
      }
    }
    if (flags.json) {
      io.out(
        JSON.stringify(results.map((r) => r.info ? jsonOf(r.file, r.info) : r), null, 2) + "\n",
      );
    } else {
      io.out(results.flatMap((r) => r.info ? [formatText(r.file, r.info)] : []).join("\n"));
    }
    return results.every((r) => r.info) ? 0 : 1;
  },
};

/** The JSON form of one binary's build information. */
export function jsonOf(file: string, bi: BuildInfo): Record<string, unknown> {
  return {
    file,
    goVersion: bi.goVersion,
    package: bi.path,
    module: bi.main,
    goos: bi.goos,
    goarch: bi.goarch,
    format: bi.format,
    settings: Object.fromEntries(bi.settings.map((s) => [s.key, s.value])),
    deps: bi.deps,
  };
}

/** The text form: one block per binary, aligned like `go version -m`. */
export function formatText(file: string, bi: BuildInfo): string {
  const lines = [
    `${file}: ${bi.goVersion}`,
    `\tpackage\t${bi.path}`,
    `\tmodule\t${[bi.main.path, bi.main.version, bi.main.sum].filter((s) => s).join(" ")}`,
    `\tplatform\t${bi.goos}/${bi.goarch} (${bi.format})`,
  ];
  for (const d of bi.deps) {
    lines.push(`\tdep\t${[d.path, d.version, d.sum].filter((s) => s).join(" ")}`);
    if (d.replace) {
      lines.push(
        `\t=>\t${[d.replace.path, d.replace.version, d.replace.sum].filter((s) => s).join(" ")}`,
      );
    }
  }
  for (const s of bi.settings) lines.push(`\tbuild\t${s.key}=${s.value}`);
  return lines.join("\n") + "\n";
}
