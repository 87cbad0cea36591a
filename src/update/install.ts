/**
 * Installing a binary at the service's path (CMD): when CMD is a symlink, a new
 * symlink is created next to it and renamed over it (atomic); when CMD is a regular
 * file, the current file is kept under its versioned name through a hard link and
 * the new binary is renamed over CMD (atomic as well). At no moment is CMD missing.
 * Everything but the rename is prepared beforehand, so that an update stops the
 * service only for one rename and a spawn.
 *
 * @module
 */

import { exists } from "../exists.ts";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { errorMessage } from "../errors.ts";
import { syncDir } from "../state/atomic_file.ts";
import { goVersionBase } from "../version/goversion.ts";

/** What an install did. */
export interface Installed {
  /** Absolute path of the binary CMD ran before: the symlink's old target, or the moved-aside file. */
  previous: string;
  /** Whether CMD is a symlink. */
  symlink: boolean;
}

/**
 * The file name of an installed version: `<name>-<version>-<goversion>[.exe]`, with
 * name the last element of the package directory, or of the module path for "/", and
 * goversion the release a Go version is based on.
 */
export function versionFileName(
  modPath: string,
  pkgDir: string,
  version: string,
  goVersion: string,
  goos = "linux",
): string {
  const name = pkgDir !== "/" && pkgDir !== "" ? basename(pkgDir) : basename(modPath);
  // "go1.23.5 X:nocoverageredesign" (an experiment or vendor build) is named by its release.
  const go = goVersionBase(goVersion) ?? goVersion.replace(/[^A-Za-z0-9.+-]/g, "_");
  return `${name}-${version}-${go}${goos === "windows" ? ".exe" : ""}`;
}

/**
 * The absolute path CMD currently runs: a symlink's target (relative targets
 * resolved against the symlink's own directory, fixing the original) or CMD itself.
 */
export async function currentBinary(cmd: string, cwd = Deno.cwd()): Promise<string> {
  const abs = isAbsolute(cmd) ? cmd : resolve(cwd, cmd);
  const info = await Deno.lstat(abs);
  if (!info.isSymlink) return abs;
  const target = await Deno.readLink(abs);
  return isAbsolute(target) ? target : resolve(dirname(abs), target);
}

/** A switch of CMD to a new binary, prepared so that only one rename is left to do. */
export interface PreparedSwitch {
  /** The binary CMD ran before (absolute): the symlink's target, or where a regular CMD is kept. */
  previous: string;
  /** Where the new binary is once switched to: the binary itself, or CMD for a regular CMD. */
  installed: string;
  /** Whether CMD is a symlink. */
  symlink: boolean;
  /**
   * Makes CMD run the new binary: one rename, synchronous, so that nothing else runs
   * between the old process's exit and the new one's start.
   * @throws Error naming the paths; CMD is unchanged then
   */
  commit(): void;
  /** Makes the switch durable (fsync of the directory); after commit. */
  sync(): Promise<void>;
  /** Undoes what prepareSwitch made, when commit was not done. */
  abort(): Promise<void>;
}

/**
 * Prepares making CMD run binary (a file in CMD's directory), doing every step that
 * can fail for want of space or inodes before the service is stopped: for a symlink
 * CMD, the new symlink is created next to it; for a regular CMD, the current file is
 * kept under asideName (or that name with a random suffix when taken) through a hard
 * link. Durable (the directory is synced) before it returns.
 * @throws Error naming the paths; nothing is left behind then
 */
export async function prepareSwitch(
  binary: string,
  cmd: string,
  asideName: string,
  cwd = Deno.cwd(),
): Promise<PreparedSwitch> {
  const cmdAbs = isAbsolute(cmd) ? cmd : resolve(cwd, cmd);
  const dir = dirname(cmdAbs);
  const info = await Deno.lstat(cmdAbs);
  if (info.isSymlink) {
    const previous = await currentBinary(cmdAbs);
    const target = dirname(binary) === dir ? basename(binary) : binary;
    const tmp = join(dir, `.${basename(cmdAbs)}.${crypto.randomUUID()}.tmp`);
    try {
      await Deno.symlink(target, tmp);
      await syncDir(dir);
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      throw new Error(`Cannot point symlink ${cmdAbs} to ${target}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    return {
      previous,
      installed: binary,
      symlink: true,
      commit() {
        try {
          Deno.renameSync(tmp, cmdAbs);
        } catch (err) {
          throw new Error(`Cannot point symlink ${cmdAbs} to ${target}: ${errorMessage(err)}`, {
            cause: err,
          });
        }
      },
      sync: () => syncDir(dir),
      abort: () => Deno.remove(tmp).catch(() => {}),
    };
  }
  let aside = join(dir, asideName);
  if (await exists(aside)) aside = `${aside}.${crypto.randomUUID().slice(0, 12)}`;
  try {
    await Deno.link(cmdAbs, aside);
    await syncDir(dir);
  } catch (err) {
    await Deno.remove(aside).catch(() => {});
    throw new Error(`Cannot keep current binary ${cmdAbs} as ${aside}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return {
    previous: aside,
    installed: cmdAbs,
    symlink: false,
    commit() {
      try {
        Deno.renameSync(binary, cmdAbs);
      } catch (err) {
        throw new Error(`Cannot move new binary ${binary} to ${cmdAbs}: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    },
    sync: () => syncDir(dir),
    abort: () => Deno.remove(aside).catch(() => {}),
  };
}

/**
 * Makes CMD run binary at once: prepareSwitch, commit and sync.
 * @throws Error naming the paths; CMD is unchanged then
 */
export async function installBinary(
  binary: string,
  cmd: string,
  asideName: string,
  cwd = Deno.cwd(),
): Promise<Installed> {
  const prepared = await prepareSwitch(binary, cmd, asideName, cwd);
  try {
    prepared.commit();
  } catch (err) {
    await prepared.abort();
    throw err;
  }
  await prepared.sync();
  return { previous: prepared.previous, symlink: prepared.symlink };
}

/**
 * Removes a previous binary that is no longer needed: never CMD's current binary or
 * one of keep. Returns whether a file was removed.
 */
export async function removeOldBinary(
  path: string,
  cmd: string,
  keep: readonly string[],
): Promise<boolean> {
  if (path === "" || keep.includes(path)) return false;
  if ((await currentBinary(cmd)) === path) return false;
  try {
    await Deno.remove(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
