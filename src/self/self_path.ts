/**
 * The path ysco was started as: the `ysco` symlink or file that a systemd unit names
 * and that a self-update switches. Every documented way to run ysco gives it:
 *
 * - a release executable: argv[0] (from /proc/self/cmdline);
 * - the bundle started through its `#!` line (or `deno run ysco.js`): argv[0] is
 *   deno, and the script is the argument of deno's command line that names the main
 *   module, as it was typed (`./ysco`, a symlink, stays a symlink);
 * - bin/ysco of a checkout: the wrapper passes its own path in YSCO_SELF.
 *
 * @module
 */

import { basename } from "node:path";
import { fileURLToPath } from "node:url";

/** The environment variable through which the bin/ysco wrapper passes its own path. */
export const SELF_ENV = "YSCO_SELF";

/** How ysco was invoked: the wrapper's path, the bundle's script path, or argv[0]. */
export function selfPath(): string {
  const fromWrapper = Deno.env.get(SELF_ENV);
  if (fromWrapper) return fromWrapper;
  const argv = commandLine();
  if (argv === undefined) return Deno.execPath();
  if (runsUnderDeno()) return scriptArgument(argv) ?? argv[0] ?? Deno.execPath();
  return argv[0] || Deno.execPath();
}

/** Whether ysco runs through the deno program (bin/ysco, the bundle, the sources). */
export function runsUnderDeno(): boolean {
  return /^deno(\.exe)?$/.test(basename(Deno.execPath()));
}

/**
 * The main module as a file when it is a script that starts with `#!` (the bundle,
 * not the sources' main.ts); undefined otherwise.
 */
export function scriptMainModule(): string | undefined {
  if (!Deno.mainModule.startsWith("file:")) return undefined;
  const main = fileURLToPath(Deno.mainModule);
  return startsWithShebang(main) ? main : undefined;
}

/** The argument of deno's command line that is the main module script, as typed. */
function scriptArgument(argv: readonly string[]): string | undefined {
  const main = scriptMainModule();
  if (main === undefined) return undefined;
  const real = realPath(main);
  return argv.slice(1).find((arg) => !arg.startsWith("-") && realPath(arg) === real);
}

function commandLine(): string[] | undefined {
  try {
    return Deno.readTextFileSync("/proc/self/cmdline").split("\0").slice(0, -1);
  } catch {
    return undefined; // not Linux
  }
}

function realPath(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

/** Whether a file (through symlinks) starts with `#!`. */
export function startsWithShebang(path: string): boolean {
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
