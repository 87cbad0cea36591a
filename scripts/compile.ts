/**
 * `deno task compile`: single executables of ysco for the release platforms in
 * dist/, with the same permissions as bin/ysco baked in (no prompts at run time).
 *
 * `deno compile` downloads its base runtime, so this needs a machine with normal
 * internet access; everywhere else, bin/ysco runs the very same program.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a build script that reports progress

import { fileURLToPath } from "node:url";

/** Release targets: Deno's target triple and the file name suffix (GOOS-GOARCH). */
export const TARGETS = [
  ["x86_64-unknown-linux-gnu", "linux-amd64"],
  ["aarch64-unknown-linux-gnu", "linux-arm64"],
  ["x86_64-apple-darwin", "darwin-amd64"],
  ["aarch64-apple-darwin", "darwin-arm64"],
] as const;

/** The --allow-* flags of bin/ysco: the one place where ysco's permissions are defined. */
export async function permissionFlags(): Promise<string[]> {
  const wrapper = await Deno.readTextFile(fileURLToPath(new URL("../bin/ysco", import.meta.url)));
  return [...wrapper.matchAll(/--allow-[a-z-]+/g)].map((m) => m[0]);
}

if (import.meta.main) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const flags = await permissionFlags();
  for (const [target, suffix] of TARGETS) {
    const output = `dist/ysco-${suffix}`;
    console.log(`compiling ${output}`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "--no-prompt", ...flags, "--target", target, "--output", output, "main.ts"],
      cwd: root,
    }).spawn().status;
    if (code !== 0) Deno.exit(code);
  }
}
