/**
 * Which file runs ysco, for the `./ysco` symlink of `ysco init` and the ExecStart of
 * `ysco systemd-unit`: a release executable, the bin/ysco wrapper of a checkout, or
 * the bundle (dist/ysco.js, started through its `#!` line or `deno run`), each as
 * it was started (see src/self/self_path.ts).
 *
 * @module
 */

import { resolve } from "node:path";
import {
  runsUnderDeno,
  scriptMainModule,
  SELF_ENV,
  selfPath,
  startsWithShebang,
} from "../self/self_path.ts";

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
  if (Deno.env.get(SELF_ENV)) return { path: resolve(cwd, selfPath()), underDeno: true };
  if (runsUnderDeno()) {
    if (scriptMainModule() === undefined) return undefined;
    return { path: resolve(cwd, selfPath()), underDeno: true };
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
