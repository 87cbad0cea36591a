/**
 * `deno run -A scripts/licenses.ts`: writes src/cli/licenses_data.ts, the licenses that
 * `ysco licenses` prints: ysco's own (LICENSE), the Deno runtime's (from the deno npm
 * package next to the running deno), and those of every npm package the program
 * bundles: the packages main.ts's module graph uses (`deno info --json main.ts`)
 * and their dependencies in deno.lock, read from Deno's npm cache.
 *
 * `--check` only compares: exit 1 when the file is not up to date.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a build script that reports what it did

import { run } from "../world/go.ts";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One component's license, as src/cli/licenses_data.ts holds it. */
export interface LicenseEntry {
  name: string;
  version: string;
  /** The SPDX expression of its package.json. */
  spdx: string;
  text: string;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The generated file. */
export const LICENSES_FILE = join(ROOT, "src", "cli", "licenses_data.ts");
const LICENSE_NAME = /^(licen[cs]e|copying)(\.(md|txt))?$/i;

async function denoJson(args: string[]): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdin: "null" }).output();
  if (!out.success) {
    throw new Error(`Cannot run deno ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? value as Record<string, unknown> : {};
}

/** "@noble/hashes@2.4.0" -> ["@noble/hashes", "2.4.0"]. */
function splitPackage(id: string): [string, string] {
  const at = id.lastIndexOf("@");
  return [id.slice(0, at), id.slice(at + 1).replace(/_.*$/, "")];
}

async function licenseText(dir: string, what: string): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && LICENSE_NAME.test(e.name)) names.push(e.name);
  }
  const name = names.sort()[0];
  if (name === undefined) throw new Error(`Cannot find a license file of ${what} in ${dir}`);
  return (await Deno.readTextFile(join(dir, name))).replace(/\r\n/g, "\n").trimEnd() + "\n";
}

/** The npm packages (name@version) that main.ts bundles, with their dependencies from deno.lock. */
export async function bundledPackages(): Promise<string[]> {
  const info = record(await denoJson(["info", "--json", "main.ts"]));
  const roots = new Set<string>();
  for (const m of Array.isArray(info.modules) ? info.modules : []) {
    const mod = record(m);
    if (mod.kind === "npm" && typeof mod.npmPackage === "string") roots.add(mod.npmPackage);
  }
  const lock = record(JSON.parse(await Deno.readTextFile(join(ROOT, "deno.lock"))));
  const npm = record(lock.npm);
  const all = new Set<string>();
  const visit = (id: string) => {
    if (all.has(id)) return;
    all.add(id);
    const deps = record(npm[id]).dependencies;
    for (const dep of Array.isArray(deps) ? deps : []) {
      const name = String(dep);
      // deno.lock names a dependency by package name when only one version is locked.
      const resolved = name.includes("@", 1)
        ? name
        : Object.keys(npm).find((k) => splitPackage(k)[0] === name);
      if (resolved === undefined) throw new Error(`Cannot resolve "${name}" in deno.lock`);
      visit(resolved);
    }
  };
  for (const id of roots) visit(id);
  return [...all].sort();
}

/** Every license, ysco's first. */
export async function collectLicenses(): Promise<LicenseEntry[]> {
  const entries: LicenseEntry[] = [{
    name: "ysco",
    version: "",
    spdx: "MIT",
    text: await licenseText(ROOT, "ysco"),
  }];
  const denoDir = dirname(await Deno.realPath(Deno.execPath()));
  entries.push({
    name: "deno",
    version: Deno.version.deno,
    spdx: "MIT",
    text: await licenseText(denoDir, "the Deno runtime (install deno from npm)"),
  });
  const cache = String(record(await denoJson(["info", "--json"])).npmCache);
  for (const id of await bundledPackages()) {
    const [name, version] = splitPackage(id);
    const dir = join(cache, "registry.npmjs.org", name, version);
    const pkg = record(JSON.parse(await Deno.readTextFile(join(dir, "package.json"))));
    entries.push({
      name,
      version,
      spdx: typeof pkg.license === "string" ? pkg.license : "see the text",
      text: await licenseText(dir, id),
    });
  }
  return entries;
}

/** A string literal with every non-ASCII character escaped (the lint's prefer-ascii). */
function literal(text: string): string {
  return JSON.stringify(text).replace(
    /[^\x20-\x7e]/g,
    (c) => "\\u" + (c.codePointAt(0) ?? 0).toString(16).padStart(4, "0"),
  );
}

/** The text of src/cli/licenses_data.ts, formatted by deno fmt. */
export async function renderLicensesFile(entries: LicenseEntry[]): Promise<string> {
  const source = [
    "/**",
    " * The licenses of ysco, the Deno runtime and the npm packages bundled in ysco, for",
    " * `ysco licenses`. Generated by `deno run -A scripts/licenses.ts` from deno.lock and",
    " * Deno's npm cache; do not edit.",
    " *",
    " * @module",
    " */",
    "",
    "/** One component's license. */",
    "export interface BundledLicense {",
    "  name: string;",
    '  /** The version, "" for ysco itself. */',
    "  version: string;",
    "  /** The SPDX expression from its package. */",
    "  spdx: string;",
    "  text: string;",
    "}",
    "",
    "/** ysco's license, then the Deno runtime's, then each bundled npm package's. */",
    "export const LICENSES: BundledLicense[] = [",
    ...entries.map((e) =>
      `{ name: ${literal(e.name)}, version: ${literal(e.version)}, spdx: ${
        literal(e.spdx)
      }, text: ${literal(e.text)} },`
    ),
    "];",
    "",
  ].join("\n");
  return await run(Deno.execPath(), ["fmt", "--ext", "ts", "-"], { cwd: ROOT, stdin: source });
}

if (import.meta.main) {
  const text = await renderLicensesFile(await collectLicenses());
  const current = await Deno.readTextFile(LICENSES_FILE).catch(() => "");
  if (Deno.args.includes("--check")) {
    if (current !== text) {
      console.error(`${LICENSES_FILE} is out of date: run deno run -A scripts/licenses.ts`);
      Deno.exit(1);
    }
  } else if (current !== text) {
    await Deno.writeTextFile(LICENSES_FILE, text);
    console.log(`wrote ${LICENSES_FILE}`);
  }
}
