/**
 * Which file runs ysco, for the `./ysco` symlink of `ysco init` and the ExecStart of
 * `ysco systemd-unit`: a release executable, the bin/ysco wrapper of a checkout, or
 * the bundle (dist/ysco.js, started through its `#!` line or `deno run`).
 *
 * @module
 */

import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SELF_ENV, selfPath } from "./self_path.ts";

/** The file that runs ysco. */
export interface YscoExecutable {
  /** Its absolute path, as started (a symlink stays a symlink). */
  path: string;
  /** It runs through deno (wrapper or bundle), which needs its cache directory. */
  underDeno: boolean;
}

/**
 * The ysco executable, or undefined when ysco runs from source through `deno run`
 * (no single file starts it then).
 */
export function yscoExecutable(cwd: string): YscoExecutable | undefined {
  const wrapper = Deno.env.get(SELF_ENV);
  if (wrapper) return { path: resolve(cwd, wrapper), underDeno: true };
  if (/^deno(\.exe)?$/.test(basename(Deno.execPath()))) {
    if (!Deno.mainModule.startsWith("file:")) return undefined;
    const main = fileURLToPath(Deno.mainModule);
    return startsWithShebang(main) ? { path: main, underDeno: true } : undefined;
  }
  const argv0 = selfPath();
  return { path: argv0.includes("/") ? resolve(cwd, argv0) : Deno.execPath(), underDeno: false };
}

/**
 * Whether a file (through symlinks) is a script: bin/ysco and the bundle are, and
 * run deno; release executables are not.
 */
export function isScript(path: string): boolean {
  return startsWithShebang(path);
}

function startsWithShebang(path: string): boolean {
  try {
    const file = Deno.openSync(path);
    try {
      const head = new Uint8Array(2);
      return file.readSync(head) === 2 && head[0] === 0x23 && head[1] === 0x21;
    } finally {
      file.close();
    }
  } catch {
    return false;
  }
}
