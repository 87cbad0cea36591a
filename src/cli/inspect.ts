/**
 * `ysco inspect [--json] BINARY...`: the build information of Go binaries that
 * matters to ysco (what `go version -m` shows), and whether ysco can update them.
 *
 * A Go binary that ysco cannot update (no main module, an unknown platform) is
 * still shown, with the reason: inspect reports, like `go version -m`, and exits 0
 * for it; `run`, `check` and `plan` refuse it with the same reason. Only files that
 * are not readable Go binaries make inspect exit 1.
 *
 * @module
 */

import { type BuildInfo, BuildInfoError, readGoBinary, updateProblem } from "../buildinfo/mod.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { goQuote } from "../discover/module_path.ts";
import { goVersionBase } from "../version/goversion.ts";
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
version and sum, Go version, target platform and build settings, and says when ysco
cannot update a binary and why (no main module, unknown platform). Exits 0 when every
file was read as a Go binary, 1 otherwise (one line per failure on stderr).

flags:
${formatFlags(FLAGS)}`,
  async run(args, io) {
    const { flags, rest } = parseFlags(args, FLAGS, { stopAtOperand: false });
    if (rest.length === 0) throw new UsageError("missing BINARY");
    const results: Array<{ file: string; info?: BuildInfo; error?: string }> = [];
    for (const file of rest) {
      try {
        results.push({ file, info: await readGoBinary(file) });
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
  const problem = updateProblem(bi);
  return {
    file,
    goVersion: bi.goVersion,
    goRelease: goVersionBase(bi.goVersion) ?? "",
    package: bi.path,
    module: bi.main,
    goos: bi.goos,
    goarch: bi.goarch,
    format: bi.format,
    settings: Object.fromEntries(bi.settings.map((s) => [s.key, s.value])),
    deps: bi.deps,
    updatable: problem === undefined,
    ...(problem === undefined ? {} : { problem }),
  };
}

/**
 * The text form: one block per binary, aligned like `go version -m` (build settings
 * quoted as Go quotes them), fields with control characters quoted, and a last
 * "ysco" line when ysco cannot update the binary or reads its Go version as a release.
 */
export function formatText(file: string, bi: BuildInfo): string {
  const lines = [`${shown(file)}: ${bi.goVersion}`];
  if (bi.path !== "") lines.push(`\tpackage\t${shown(bi.path)}`);
  if (bi.main.path !== "") lines.push(`\tmodule\t${moduleText(bi.main)}`);
  lines.push(
    `\tplatform\t${shown(bi.goos || "unknown")}/${shown(bi.goarch || "unknown")} (${bi.format})`,
  );
  for (const d of bi.deps) {
    lines.push(`\tdep\t${moduleText(d)}`);
    if (d.replace) lines.push(`\t=>\t${moduleText(d.replace)}`);
  }
  for (const s of bi.settings) {
    const key = /[= \t\r\n"`]/.test(s.key) || s.key === "" ? goQuote(s.key) : s.key;
    const value = /[ \t\r\n"`]/.test(s.value) ? goQuote(s.value) : s.value;
    lines.push(`\tbuild\t${shown(key)}=${shown(value)}`);
  }
  const problem = updateProblem(bi);
  const base = goVersionBase(bi.goVersion);
  if (problem !== undefined) {
    lines.push(`\tysco\tcannot update: ${problem}`);
  } else if (base !== bi.goVersion) {
    lines.push(
      base === undefined
        ? `\tysco\tGo version is not a release: toolchain policies keep the running toolchain`
        : `\tysco\tGo version read as ${base}, the release it is based on, for toolchain decisions and fetches`,
    );
  }
  return lines.join("\n") + "\n";
}

function moduleText(m: { path: string; version: string; sum: string }): string {
  return [m.path, m.version, m.sum].filter((s) => s).map(shown).join(" ");
}

/** A field as it is, or quoted as Go quotes it when it holds control characters. */
function shown(s: string): string {
  return /[^ -~\u0080-\uffff]/.test(s) ? goQuote(s) : s;
}
