/**
 * `go version -m` (Go 1.23) as the oracle of the build info tests: what it shows
 * about files, or the error it gives for them.
 *
 * @module
 */

import { GO_TOOLCHAINS } from "../../world/go.ts";

/** What `go version -m` prints about a file it reads. */
export interface GoVersionM {
  goVersion: string;
  path: string;
  mod: string[];
  /** Settings with their values as printed (quoted where Go quotes them). */
  settings: Record<string, string>;
}

/** What `go version -m` says of each file: its build info, or the error (after "could not read Go build info from FILE: "). */
export async function goVersionM(
  files: readonly string[],
): Promise<Map<string, GoVersionM | { error: string }>> {
  const out = await new Deno.Command(GO_TOOLCHAINS["1.23"], {
    args: ["version", "-m", ...files],
    env: { GOTOOLCHAIN: "local", GOTELEMETRY: "off", HOME: "/tmp" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const result = new Map<string, GoVersionM | { error: string }>();
  for (const line of dec.decode(out.stderr).split("\n")) {
    for (const file of files) {
      const prefix = `${file}: could not read Go build info from ${file}: `;
      if (line.startsWith(prefix)) result.set(file, { error: line.slice(prefix.length) });
    }
  }
  let current: GoVersionM | undefined;
  for (const line of dec.decode(out.stdout).split("\n")) {
    if (!line.startsWith("\t")) {
      const file = files.find((f) => line.startsWith(`${f}: `));
      if (file === undefined) continue;
      current = { goVersion: line.slice(file.length + 2), path: "", mod: [], settings: {} };
      result.set(file, current);
      continue;
    }
    if (current === undefined) continue;
    const [, kind, ...rest] = line.split("\t");
    if (kind === "path") current.path = rest.join("\t");
    if (kind === "mod") current.mod = rest;
    if (kind === "build") {
      const kv = rest.join("\t");
      const eq = kv.indexOf("=", kv.startsWith('"') ? kv.indexOf('"', 1) : 0);
      current.settings[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  for (const file of files) {
    if (!result.has(file)) throw new Error(`go version -m said nothing about ${file}`);
  }
  return result;
}

/** What `go version -m` shows about one file it reads. */
export async function goVersionOf(file: string): Promise<GoVersionM> {
  const got = (await goVersionM([file])).get(file);
  if (got === undefined || "error" in got) {
    throw new Error(`go version -m cannot read ${file}: ${got?.error}`);
  }
  return got;
}
