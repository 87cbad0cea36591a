/**
 * Reads the build information that the Go toolchain embeds in binaries (what
 * `go version -m` shows) from ELF, Mach-O and PE files, in both the Go 1.18+ inline
 * format and the older pointer format. Only the needed parts of the file are read,
 * through seeks, and every size is bounded: a broken or hostile file ends in one
 * BuildInfoError naming the file, on one line, with the file's bytes quoted and cut.
 *
 * readGoBinary reads what Go reads (binaries without a main module included);
 * readBuildInfo takes only binaries ysco can update, and says why not.
 *
 * @module
 */

import { dirname, isAbsolute, join } from "node:path";
import { errorMessage, outsideText, quoteCut } from "../errors.ts";
import { readRawBuildInfo } from "./blob.ts";
import { type BuildSetting, type Module, parseModInfo } from "./modinfo.ts";
import { FileReaderAt, FormatError, type ReaderAt } from "./reader.ts";

export type { BuildSetting, Module } from "./modinfo.ts";
export type { ReaderAt } from "./reader.ts";
export { BytesReaderAt } from "./reader.ts";

/**
 * Build information of a Go binary. From readBuildInfo it always has a main module;
 * from readGoBinary, path, main, deps and settings are empty where the binary has none.
 */
export interface BuildInfo {
  /**
   * Toolchain that built it, e.g. "go1.23.5", "go1.23.5 X:nocoverageredesign" (a
   * GOEXPERIMENT build); printable, at most MAX_GO_VERSION bytes.
   */
  goVersion: string;
  /** Import path of the main package, e.g. "example.com/m/cmd/x"; "" without module information. */
  path: string;
  /** The main module (path, version, sum); path "" when there is none. */
  main: Module;
  deps: Module[];
  settings: BuildSetting[];
  /** Target OS: the GOOS build setting, else what the file header tells; "" when neither does. */
  goos: string;
  /** Target architecture: the GOARCH build setting, else what the file header tells; "" when unknown. */
  goarch: string;
  /** "ELF", "Mach-O" or "PE". */
  format: string;
}

/** Thrown for any file the build info reader cannot read; the message names the file. */
export class BuildInfoError extends Error {
  /** The file that was read. */
  readonly file: string;
  /** Why, without the file name, e.g. "not an executable". */
  readonly reason: string;

  /**
   * @param file the file that was read
   * @param reason why it could not be read
   */
  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`${file}: ${reason}`, options);
    this.name = "BuildInfoError";
    this.file = file;
    this.reason = reason;
  }
}

/**
 * Reads the build information of the Go binary at path, as `go version -m` shows it:
 * binaries without module information or without a main module included.
 * @throws BuildInfoError for anything that is not a readable Go binary
 */
export async function readGoBinary(path: string): Promise<BuildInfo> {
  // A FIFO or a device would block the open or the reads: look before opening.
  const stat = statOrUndefined(path);
  if (stat !== undefined && !stat.isFile) throw new BuildInfoError(path, notRegular(stat));
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (err) {
    throw new BuildInfoError(path, `cannot open: ${openProblem(path, err)}`, { cause: err });
  }
  try {
    const opened = file.statSync();
    if (!opened.isFile) throw new BuildInfoError(path, notRegular(opened));
    return await readGoBinaryFrom(new FileReaderAt(file, opened.size), path);
  } finally {
    file.close();
  }
}

/**
 * Reads the build information of a Go binary ysco can update: one with a main
 * module and a known target platform.
 * @throws BuildInfoError for anything else, saying why ysco cannot update it
 */
export async function readBuildInfo(path: string): Promise<BuildInfo> {
  const info = await readGoBinary(path);
  const problem = updateProblem(info);
  if (problem !== undefined) throw new BuildInfoError(path, problem);
  return info;
}

/**
 * Reads build information from any ReaderAt, as readGoBinary; name is used in errors.
 * @throws BuildInfoError for anything that is not a readable Go binary
 */
export async function readGoBinaryFrom(r: ReaderAt, name: string): Promise<BuildInfo> {
  let raw;
  try {
    raw = await readRawBuildInfo(r);
  } catch (err) {
    if (err instanceof FormatError) throw new BuildInfoError(name, err.message, { cause: err });
    if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotFound) {
      throw new BuildInfoError(name, `cannot read: ${errorMessage(err)}`, { cause: err });
    }
    // A parser bug must still end in the reader's own error type, never a crash.
    throw new BuildInfoError(name, `malformed executable (internal error: ${errorMessage(err)})`, {
      cause: err,
    });
  }
  const { exe, goVersion, modInfo } = raw;
  // Control characters: anything but printable ASCII and non-ASCII.
  if (/[^ -~\u0080-\uffff]/.test(goVersion)) {
    throw new BuildInfoError(
      name,
      `not a Go executable (Go version ${quoteCut(goVersion)} has control characters)`,
    );
  }
  let info;
  try {
    info = parseModInfo(modInfo);
  } catch (err) {
    throw new BuildInfoError(name, errorMessage(err), { cause: err });
  }
  const setting = (key: string) => info.settings.find((s) => s.key === key)?.value;
  return {
    goVersion,
    path: info.path,
    main: info.main,
    deps: info.deps,
    settings: info.settings,
    goos: setting("GOOS") ?? exe.goos ?? "",
    goarch: setting("GOARCH") ?? exe.goarch ?? "",
    format: exe.format,
  };
}

/**
 * Reads build information from any ReaderAt, as readBuildInfo; name is used in errors.
 * @throws BuildInfoError for anything but a Go binary ysco can update
 */
export async function readBuildInfoFrom(r: ReaderAt, name: string): Promise<BuildInfo> {
  const info = await readGoBinaryFrom(r, name);
  const problem = updateProblem(info);
  if (problem !== undefined) throw new BuildInfoError(name, problem);
  return info;
}

/**
 * Why ysco cannot update a Go binary, undefined when it can: it needs the main
 * module (path and version, to look up releases) and the target platform (to fetch
 * a build for it).
 */
export function updateProblem(info: BuildInfo): string | undefined {
  const go = outsideText(info.goVersion);
  if (info.main.path === "") {
    const what = info.path === "" && info.settings.length === 0 && info.deps.length === 0
      ? "without module information"
      : `without a main module (package ${quoteCut(info.path)})`;
    return `${go} binary ${what}: built outside module mode, so ysco cannot tell its module and version`;
  }
  if (info.goos === "" || info.goarch === "") {
    return `${go} binary for an unknown platform ${outsideText(info.goos || "?")}/${
      outsideText(info.goarch || "?")
    } (no GOOS/GOARCH build setting, and its ${info.format} header does not tell): ` +
      "ysco cannot tell which build to fetch";
  }
  return undefined;
}

function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined; // the open says why
  }
}

function notRegular(stat: Deno.FileInfo): string {
  const kind = stat.isDirectory
    ? "a directory"
    : stat.isFifo
    ? "a FIFO"
    : stat.isCharDevice
    ? "a character device"
    : stat.isBlockDevice
    ? "a block device"
    : stat.isSocket
    ? "a socket"
    : "not a file";
  return `not a regular file (${kind})`;
}

/** The open error, naming the missing target of a dangling symlink. */
function openProblem(path: string, err: unknown): string {
  if (!(err instanceof Deno.errors.NotFound)) return errorMessage(err);
  const chain: string[] = [];
  let p = path;
  // A chain of symlinks: follow it (at most 40 hops, as Linux) to the name that is missing.
  for (let hop = 0; hop < 40; hop++) {
    let target: string;
    try {
      if (!Deno.lstatSync(p).isSymlink) break;
      target = Deno.readLinkSync(p);
    } catch {
      break;
    }
    chain.push(target);
    p = isAbsolute(target) ? target : join(dirname(p), target);
  }
  if (chain.length === 0) return errorMessage(err);
  const via = chain.length > 1 ? `, which leads to ${quoteCut(p)}` : "";
  return `it is a symlink to ${quoteCut(chain[0] ?? "")}${via}, which does not exist`;
}
