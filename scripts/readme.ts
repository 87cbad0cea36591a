/**
 * `deno run -A scripts/readme.ts`: fills the generated blocks of README.md from the
 * program itself, so that the documentation cannot drift from it:
 *
 * - `commands`: every command's usage line and summary (main.ts);
 * - `config`: the configuration reference, from the schema that `ysco config` prints;
 * - `metrics`: every metric with its type and help, from ysco's registry.
 *
 * A block sits between `<!-- generated NAME by scripts/readme.ts -->` and
 * `<!-- end generated NAME -->`. The whole file is then formatted by deno fmt.
 * `--check` only compares: exit 1 when README.md is not up to date.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a build script that reports what it did

import { run } from "../tests/_go.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "../main.ts";
import { CONFIG_SCHEMA } from "../src/config/config.ts";
import { tomlValue } from "../src/config/describe.ts";
import type { Field, Fields } from "../src/config/schema.ts";
import { createYscoMetrics } from "../src/ysco_metrics.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** The README. */
export const README = join(ROOT, "README.md");

/** The generated blocks by name. */
export async function generatedBlocks(): Promise<Record<string, string>> {
  return {
    commands: await commandsBlock(),
    config: configBlock(),
    metrics: metricsBlock(),
  };
}

async function commandsBlock(): Promise<string> {
  const rows = ["| command | what it does |", "| --- | --- |"];
  for (const entry of COMMANDS) {
    const command = await entry.load();
    const usage = command.usage.split("\n")[0]?.replace(/^usage: /, "") ?? entry.name;
    rows.push(`| \`${usage}\` | ${cell(entry.summary)} |`);
  }
  rows.push(
    "| `ysco help [COMMAND]` | the overview, or a command's usage (`-h` works everywhere) |",
  );
  return rows.join("\n");
}

function configBlock(): string {
  const out: string[] = [];
  const plain = (fields: Fields) =>
    Object.entries(fields).filter(([, f]) => f.kind !== "table" && f.kind !== "tables");
  out.push("### Top level", "", ...keyTable(plain(CONFIG_SCHEMA)));
  for (const [name, field] of Object.entries(CONFIG_SCHEMA)) {
    if (field.kind === "table") {
      out.push("", `### \`[${name}]\``, "", field.doc, "", ...keyTable(plain(field.fields)));
    } else if (field.kind === "tables") {
      out.push(
        "",
        `### \`[[${name}]]\``,
        "",
        `${field.doc} Repeat the table for each item; none by default.`,
        "",
        ...keyTable(plain(field.fields)),
      );
    }
  }
  return out.join("\n");
}

function keyTable(entries: Array<[string, Field]>): string[] {
  const rows = ["| key | default | meaning |", "| --- | --- | --- |"];
  for (const [key, field] of entries) {
    if (field.kind === "table" || field.kind === "tables") continue;
    const dflt = field.required ? "(required)" : `\`${tomlValue(field, field.default)}\``;
    rows.push(`| \`${key}\` | ${cell(dflt)} | ${cell(field.doc)} |`);
  }
  return rows;
}

function metricsBlock(): string {
  const { registry } = createYscoMetrics();
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  for (const line of registry.render().split("\n")) {
    const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m) (m[1] === "HELP" ? help : type).set(m[2] ?? "", m[3] ?? "");
  }
  const rows = ["| metric | type | meaning |", "| --- | --- | --- |"];
  for (const [name, text] of help) {
    rows.push(`| \`${name}\` | ${type.get(name) ?? ""} | ${cell(text)} |`);
  }
  return rows.join("\n");
}

/** Text for a table cell: pipes escaped, one line. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}

/**
 * The README with every generated block replaced, formatted by deno fmt.
 * @throws Error when a block's markers are missing
 */
export async function renderReadme(text: string): Promise<string> {
  let out = text;
  for (const [name, block] of Object.entries(await generatedBlocks())) {
    const start = `<!-- generated ${name} by scripts/readme.ts -->`;
    const end = `<!-- end generated ${name} -->`;
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`Cannot find the markers of block "${name}" in README.md`);
    out = `${out.slice(0, i + start.length)}\n\n${block}\n\n${out.slice(j)}`;
  }
  return await denoFmt(out);
}

async function denoFmt(markdown: string): Promise<string> {
  return await run(Deno.execPath(), ["fmt", "--ext", "md", "-"], { cwd: ROOT, stdin: markdown });
}

if (import.meta.main) {
  const current = await Deno.readTextFile(README);
  const text = await renderReadme(current);
  if (Deno.args.includes("--check")) {
    if (text !== current) {
      console.error("README.md is out of date: run deno run -A scripts/readme.ts");
      Deno.exit(1);
    }
  } else if (text !== current) {
    await Deno.writeTextFile(README, text);
    console.log(`wrote ${README}`);
  }
}
