/**
 * `deno run -A scripts/docs.ts`: fills the generated blocks of the documentation from
 * the program itself, so that it cannot drift from it:
 *
 * - README.md `commands`: every command's usage lines and summary (main.ts);
 * - docs/configuration.md `config`: the reference, from the schema `ysco config` prints;
 * - docs/metrics.md `metrics`: every metric with its type and help, from the registry.
 *
 * A block sits between `<!-- generated NAME by scripts/docs.ts -->` and
 * `<!-- end generated NAME -->`. Each file is then formatted by deno fmt. `--check`
 * only compares: exit 1 when a file is not up to date.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a build script that reports what it did

import { run } from "../world/go.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "../main.ts";
import { CONFIG_SCHEMA } from "../src/config/config.ts";
import { tomlValue } from "../src/config/describe.ts";
import type { Field, Fields } from "../src/config/schema.ts";
import { createYscoMetrics } from "../src/metrics/ysco_metrics.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The files with generated blocks, and the blocks of each. */
export const GENERATED: Record<string, Record<string, () => Promise<string> | string>> = {
  "README.md": { commands: commandsBlock },
  "docs/configuration.md": { config: configBlock },
  "docs/metrics.md": { metrics: metricsBlock },
};

/** The absolute path of a file of the repository. */
export function repoPath(rel: string): string {
  return join(ROOT, rel);
}

async function commandsBlock(): Promise<string> {
  const rows = ["| command | what it does |", "| --- | --- |"];
  for (const entry of COMMANDS) {
    const command = await entry.load();
    // Every form: "usage: ysco x ..." and the lines below it that start with "ysco".
    const forms: string[] = [];
    for (const line of command.usage.split("\n")) {
      const form = /^(?:usage:)?\s+(ysco .*)$/.exec(line)?.[1] ?? /^usage: (.*)$/.exec(line)?.[1];
      if (form === undefined) break;
      forms.push(form);
    }
    const usage = forms.length > 0 ? forms : [entry.name];
    rows.push(`| ${usage.map((u) => `\`${u}\``).join("<br>")} | ${cell(entry.summary)} |`);
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
 * A file's text with its generated blocks replaced, formatted by deno fmt.
 * @throws Error when a block's markers are missing
 */
export async function renderGenerated(file: string, text: string): Promise<string> {
  let out = text;
  for (const [name, make] of Object.entries(GENERATED[file] ?? {})) {
    const start = `<!-- generated ${name} by scripts/docs.ts -->`;
    const end = `<!-- end generated ${name} -->`;
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`Cannot find the markers of block "${name}" in ${file}`);
    out = `${out.slice(0, i + start.length)}\n\n${await make()}\n\n${out.slice(j)}`;
  }
  return await denoFmt(out);
}

async function denoFmt(markdown: string): Promise<string> {
  return await run(Deno.execPath(), ["fmt", "--ext", "md", "-"], { cwd: ROOT, stdin: markdown });
}

if (import.meta.main) {
  let stale = false;
  for (const file of Object.keys(GENERATED)) {
    const path = repoPath(file);
    const current = await Deno.readTextFile(path);
    const text = await renderGenerated(file, current);
    if (text === current) continue;
    if (Deno.args.includes("--check")) {
      console.error(`${file} is out of date: run deno run -A scripts/docs.ts`);
      stale = true;
    } else {
      await Deno.writeTextFile(path, text);
      console.log(`wrote ${file}`);
    }
  }
  if (stale) Deno.exit(1);
}
