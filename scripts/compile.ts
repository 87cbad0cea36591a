/**
 * Release builds of ysco, with the version stamped in (`ysco version` shows it) and
 * the runtime flags of bin/ysco (permissions, V8 flags) baked in, so that there are
 * no prompts at run time:
 *
 * - `deno task compile`: single executables for the release platforms in dist/
 *   (`deno compile` downloads its base runtime, so this needs a machine with normal
 *   internet access);
 * - `deno task bundle`: dist/ysco.js, the whole program in one JavaScript file that
 *   `deno run` runs with no other files and no downloads; it starts with a `#!` line,
 *   so that `./ysco.js ...` works where deno is on PATH.
 *
 * The version is `$YSCO_VERSION` when set, the tag at HEAD, or a Go pseudo-version
 * of the commit after the last tag (after the development version of
 * src/self/ysco_version.ts when there is no tag), with "+dirty" for uncommitted changes.
 * It is stamped into a copy of the sources, never into the checkout.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a build script that reports progress

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isValidSemver, parseSemver } from "../src/version/semver.ts";
import { YSCO_VERSION } from "../src/self/ysco_version.ts";

/** Release targets: Deno's target triple and the file name suffix (GOOS-GOARCH). */
export const TARGETS = [
  ["x86_64-unknown-linux-gnu", "linux-amd64"],
  ["aarch64-unknown-linux-gnu", "linux-arm64"],
  ["x86_64-apple-darwin", "darwin-amd64"],
  ["aarch64-apple-darwin", "darwin-arm64"],
] as const;

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What the program is made of: copied to the staging directory. */
const SOURCES = ["main.ts", "deno.json", "deno.lock", "src"];

/**
 * The runtime flags of bin/ysco's deno line, the one place where they are defined:
 * its --allow-* permissions and --v8-flags (the line's other flags are for running
 * from source).
 * @throws Error when bin/ysco has no `exec deno run` line
 */
export async function runtimeFlags(): Promise<string[]> {
  const wrapper = await Deno.readTextFile(join(ROOT, "bin", "ysco"));
  const line = wrapper.replaceAll("\\\n", " ").split("\n").find((l) => /\bexec deno run /.test(l));
  if (line === undefined) {
    throw new Error("Cannot read ysco's runtime flags: no deno line in bin/ysco");
  }
  return line.split(/\s+/).filter((word) => /^--(allow-[a-z-]+|v8-flags=\S+)$/.test(word));
}

/**
 * A Go pseudo-version for a commit after base (a tag or the development version):
 * `vX.Y.(Z+1)-0.TIME-COMMIT` after a release, `vX.Y.Z-PRE.0.TIME-COMMIT` after a
 * prerelease, TIME as yyyymmddhhmmss in UTC and COMMIT the first 12 hex digits.
 * @throws SyntaxError for a base that is not a semantic version
 */
export function pseudoVersion(base: string, time: Date, commit: string): string {
  const v = parseSemver(base);
  if (v === undefined) throw new SyntaxError(`Cannot make a pseudo-version after "${base}"`);
  const stamp = time.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const rev = commit.slice(0, 12);
  const [major, minor, patch] = [v.major, v.minor, v.patch];
  return v.prerelease === ""
    ? `v${major}.${minor}.${BigInt(patch) + 1n}-0.${stamp}-${rev}`
    : `v${major}.${minor}.${patch}${v.prerelease}.0.${stamp}-${rev}`;
}

async function git(args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("git", { args, cwd: ROOT, stdin: "null", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
  } catch {
    return undefined; // no git
  }
}

/**
 * The version to stamp: $YSCO_VERSION, the tag at a clean HEAD, or a pseudo-version.
 * @throws SyntaxError for a $YSCO_VERSION that is not a semantic version
 */
export async function releaseVersion(): Promise<string> {
  const env = Deno.env.get("YSCO_VERSION");
  if (env) {
    if (!isValidSemver(env)) {
      throw new SyntaxError(`Cannot stamp version "${env}" ($YSCO_VERSION): not like v1.2.3`);
    }
    return env;
  }
  const commit = await git(["rev-parse", "HEAD"]);
  const time = await git(["show", "-s", "--format=%ct", "HEAD"]);
  if (commit === undefined || time === undefined) return YSCO_VERSION;
  const dirty = (await git(["status", "--porcelain", "--untracked-files=no"])) !== "";
  const described = await git(["describe", "--tags", "--match", "v[0-9]*", "--long"]);
  const m = described === undefined ? null : /^(.*)-(\d+)-g[0-9a-f]+$/.exec(described);
  const tag = m?.[1];
  if (tag !== undefined && m?.[2] === "0" && !dirty && isValidSemver(tag)) return tag;
  const base = tag !== undefined && isValidSemver(tag) ? tag : YSCO_VERSION;
  return pseudoVersion(base, new Date(Number(time) * 1000), commit) + (dirty ? "+dirty" : "");
}

/** A copy of the program's sources with the version stamped; `await using` removes it. */
export async function stageSources(
  version: string,
): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "ysco-release-" });
  const copy = async (rel: string) => {
    const from = join(ROOT, rel);
    const to = join(dir, rel);
    if ((await Deno.stat(from)).isDirectory) {
      await Deno.mkdir(to, { recursive: true });
      for await (const e of Deno.readDir(from)) await copy(join(rel, e.name));
    } else {
      await Deno.mkdir(dirname(to), { recursive: true });
      await Deno.copyFile(from, to);
    }
  };
  for (const rel of SOURCES) await copy(rel);
  const file = join(dir, "src", "self", "ysco_version.ts");
  const text = await Deno.readTextFile(file);
  const stamped = text.replace(
    /^export const YSCO_VERSION = "[^"]*";$/m,
    `export const YSCO_VERSION = ${JSON.stringify(version)};`,
  );
  if (stamped === text && !text.includes(JSON.stringify(version))) {
    throw new Error(`Cannot stamp the version: no YSCO_VERSION line in ${file}`);
  }
  await Deno.writeTextFile(file, stamped);
  return {
    dir,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function deno(args: string[], cwd: string): Promise<void> {
  const { code } = await new Deno.Command(Deno.execPath(), { args, cwd }).spawn().status;
  if (code !== 0) throw new Error(`Cannot build: deno ${args.join(" ")} exited with ${code}`);
}

/**
 * Bundles the program with the version stamped into one JavaScript file, starting
 * with a `#!` line that runs it with ysco's runtime flags and nothing else (the
 * script's path, as started, reaches the program as Deno.mainModule).
 */
export async function bundleProgram(output: string, version: string): Promise<void> {
  await using stage = await stageSources(version);
  const tmp = join(stage.dir, "ysco.js");
  await deno(["bundle", "--quiet", "--platform", "deno", "--output", tmp, "main.ts"], stage.dir);
  const flags = await runtimeFlags();
  const shebang = `#!/usr/bin/env -S deno run --quiet --no-prompt --no-config --no-lock ${
    flags.join(" ")
  }\n`;
  const code = lazyRequire(await Deno.readTextFile(tmp));
  await Deno.mkdir(dirname(output), { recursive: true });
  await Deno.writeTextFile(output, shebang + code.replace(/^#!.*\n/, ""), { mode: 0o755 });
  await Deno.chmod(output, 0o755);
}

/**
 * The `require` that `deno bundle` gives the bundled CommonJS packages (dns-packet
 * requires node:buffer) comes from node:module, which its static import loads at
 * every start (some 10 ms, before any command runs). They only ever require Node's
 * built-in modules (everything else is bundled), so process.getBuiltinModule serves
 * them, when first called.
 */
function lazyRequire(code: string): string {
  const banner = 'import { createRequire as __deno_internal_createRequire } from "node:module";\n' +
    "var __require = __deno_internal_createRequire(import.meta.url);\n";
  const lazy = "var __require = (id) => process.getBuiltinModule(id) ?? (() => {\n" +
    '  throw new Error(`Cannot require "${id}": not a built-in module of Node`);\n' +
    "})();\n";
  return code.replace(banner, lazy);
}

/** Compiles the executables into dist/. */
async function compileAll(version: string): Promise<void> {
  await using stage = await stageSources(version);
  const flags = await runtimeFlags();
  for (const [target, suffix] of TARGETS) {
    // The names `ysco release-sign` expects; the version is inside (`ysco version`).
    const output = join(ROOT, "dist", `ysco-${suffix}`);
    console.log(`compiling ${output}`);
    await deno(
      ["compile", "--no-prompt", ...flags, "--target", target, "--output", output, "main.ts"],
      stage.dir,
    );
  }
}

if (import.meta.main) {
  const version = await releaseVersion();
  console.log(`version ${version}`);
  if (Deno.args.includes("--bundle")) {
    const output = join(ROOT, "dist", "ysco.js");
    await bundleProgram(output, version);
    console.log(`wrote ${output}`);
  } else {
    await compileAll(version);
  }
}
