/**
 * Helpers shared by the tests: temporary directories scoped with `await using`,
 * and running the ysco program as a real process, the way a user runs it.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The wrapper that runs ysco from source with its release permissions. */
export const YSCO = fileURLToPath(new URL("../bin/ysco", import.meta.url));

/** A temporary directory removed when the scope ends. */
export interface TempDir extends AsyncDisposable {
  path: string;
}

/** Creates a temporary directory that `await using` removes afterwards. */
export async function tempDir(prefix = "ysco-test-"): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

/** The outcome of a finished process. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ysco ARGS` as a process and collects its output. */
export async function ysco(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<Output> {
  const child = new Deno.Command(YSCO, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
