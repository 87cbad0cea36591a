/**
 * `ysco init`: sets up a deployment of a Go service in a working directory, as
 * the original does (docs/behaviour.md section 1.2), with a real "not found" when trimming the package
 * path to its module and with nothing half-made left behind on any failure.
 *
 * What it creates, all or nothing:
 * - `<dir>/` (0700) with `ysco.toml` (only what differs from the defaults),
 *   `password.txt` (0600, from a cryptographic random source), `state.json`, and the
 *   transparency log's cache holding the verified tree;
 * - `<name>-<version>-<goversion>`, the service binary, verified through gobuild's
 *   transparency log before it is written under that name;
 * - the short symlink `<name>` to it, which `ysco run` runs and updates;
 * - the symlink `ysco` to the ysco executable, when there is none.
 *
 * Everything of `<dir>/` is written in a temporary `<dir>.tmp-*` next to it and
 * renamed at the end; the binary is downloaded to a temporary file; every step
 * that made something is undone when a later one fails or the caller aborts.
 *
 * @module
 */

import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { syncDir } from "../state/atomic_file.ts";
import type { Config } from "../config/config.ts";
import { formatConfigChanges } from "../config/describe.ts";
import { parseConfig } from "../config/parse.ts";
import {
  checkModulePath,
  discoverModule,
  discoverToolchains,
  DiscoveryError,
  type FoundVersion,
  type MethodReport,
} from "../discover/mod.ts";
import { errorMessage } from "../errors.ts";
import { exists } from "../exists.ts";
import { formatHostPort, parseHostPort } from "../host_port.ts";
import { emptyState, writeState } from "../state/state.ts";
import { versionFileName } from "../update/install.ts";
import { binaryUrl, type BuildSpec, buildSpecProblem, tlogBaseUrl } from "../verify/buildspec.ts";
import { downloadBinary } from "../verify/download.ts";
import { TlogClient } from "../verify/tlog_client.ts";
import { httpTlogOps } from "../verify/tlog_ops.ts";
import { parseVerifierKey } from "../verify/verifier_key.ts";
import { isValidSemver } from "../version/semver.ts";

/** The length of the generated admin password. */
export const PASSWORD_LENGTH = 16;

const PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** The top of the generated ysco.toml. */
export const INIT_CONFIG_HEADER =
  "ysco configuration, written by `ysco init`: only the settings that differ from the " +
  "defaults. `ysco config` prints every key with its documentation, `ysco configdefaults` " +
  "the defaults; `ysco testconfig ys/ysco.toml` checks this file.";

/** Progress of the download, as a progress bar shows it. */
export interface DownloadProgress {
  /** Bytes written so far. */
  update(written: number): void;
  /** The download ended: completely (true) or not. */
  end(complete: boolean): void;
}

/** What to set up. */
export interface InitOptions {
  /** The package path of the service's main package, e.g. "github.com/mjl-/moxtools". */
  pkgPath: string;
  /** The module version; the newest stable release when absent. */
  version?: string;
  /** The Go toolchain, e.g. "go1.23.4"; the current Go release when absent. */
  goVersion?: string;
  /** The working directory: binaries and symlinks go here, ysco runs here. */
  cwd: string;
  /** The state directory, relative to cwd or absolute ("ys"). */
  dir: string;
  /**
   * The configuration: its [monitor] and [gobuild] sources are used to find and fetch
   * the binary, and it is written (what differs from the defaults) with auth_file set.
   */
  config: Config;
  /** The platform of the binary (this machine's). */
  goos: string;
  goarch: string;
  /**
   * The absolute path of the ysco executable, for the `ysco` symlink; undefined when
   * it is unknown (ysco started by `deno run`): no symlink then.
   */
  self: string | undefined;
  /** Aborts everything; what was made is removed. */
  signal?: AbortSignal;
  /** Progress notes, one line each. */
  onNote?: (line: string) => void;
  /** Called when the download starts; the returned hooks follow it. */
  onDownload?: (name: string, size: number) => DownloadProgress;
}

/** What init set up. */
export interface InitResult {
  module: string;
  /** The package directory in the module: "/" or "/cmd/x". */
  pkgDir: string;
  version: string;
  goVersion: string;
  /** The discovery method that found the module. */
  method: string;
  /** The versioned binary's file name in cwd. */
  binary: string;
  /** The short symlink's name in cwd: what `ysco run` is given. */
  link: string;
  /** What happened about `./ysco`: made now, there already, or not made (self unknown). */
  ysco: "created" | "existing" | "none";
  /** The target of `./ysco` when it was created. */
  yscoTarget?: string;
  /** The admin password. */
  password: string;
  /** The text written to ysco.toml. */
  configText: string;
  /** The log record of the binary and the verified tree size. */
  recordId: number;
  treeSize: number;
}

/** A not-found answer: no method knows any prefix of the package path as a module. */
export class ModuleNotFoundError extends Error {
  /** The prefixes tried, longest first. */
  readonly tried: string[];

  /**
   * @param pkgPath the package path
   * @param tried the module paths looked up
   */
  constructor(pkgPath: string, tried: string[], detail: string) {
    super(
      `Cannot find the module of package "${pkgPath}": ${detail} ` +
        tried.map((t) => `"${t}"`).join(", "),
    );
    this.name = "ModuleNotFoundError";
    this.tried = tried;
  }
}

/**
 * The module paths a package path may belong to, longest first: the path itself and
 * each prefix at a "/" ("a.com/b/c", "a.com/b", "a.com").
 */
export function modulePrefixes(pkgPath: string): string[] {
  const out: string[] = [];
  for (let p = pkgPath; p !== ""; p = p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "") {
    out.push(p);
  }
  return out;
}

/**
 * The file name `go install` gives a command: the last element of the package path,
 * or the one before it when that is a major version suffix ("example.com/tool/v2" is
 * "tool"), as Go's DefaultExecName.
 */
export function commandName(pkgPath: string): string {
  const elems = pkgPath.split("/");
  const last = elems[elems.length - 1] ?? "";
  const isMajor = /^v[0-9]+$/.test(last) && last !== "v0" && last !== "v1" && !/^v0/.test(last);
  return isMajor && elems.length > 1 ? elems[elems.length - 2] ?? last : last;
}

/** The newest release: not a prerelease or pseudo-version. Versions are newest first. */
export function newestStable(versions: readonly FoundVersion[]): string | undefined {
  return versions.find((v) => !v.prerelease && !v.pseudo)?.version;
}

/**
 * A password of PASSWORD_LENGTH letters and digits from crypto.getRandomValues,
 * without modulo bias (bytes beyond the last whole multiple of the alphabet are drawn again).
 */
export function generatePassword(length = PASSWORD_LENGTH): string {
  const n = PASSWORD_ALPHABET.length;
  const limit = 256 - (256 % n);
  let out = "";
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < limit && out.length < length) out += PASSWORD_ALPHABET[b % n];
    }
  }
  return out;
}

/**
 * Finds the module of a package path: the longest prefix that a discovery method
 * knows. Only answers that a module does not exist move on to a shorter prefix; any
 * other failure (a broken resolver, an unreachable proxy) stops the search, so that
 * an outage is not mistaken for a missing module.
 * @throws ModuleNotFoundError when no prefix is a known module
 * @throws DiscoveryError when a method failed otherwise
 */
export async function findModule(
  pkgPath: string,
  monitor: Config["monitor"],
  signal?: AbortSignal,
): Promise<{ module: string; method: string; versions: FoundVersion[] }> {
  const tried: string[] = [];
  for (const prefix of modulePrefixes(pkgPath)) {
    if (checkModulePath(prefix) !== undefined) continue;
    tried.push(prefix);
    try {
      const found = await discoverModule(prefix, {
        monitor,
        newMajor: false,
        ...(signal ? { signal } : {}),
      });
      if (found.versions.length > 0) {
        return { module: prefix, method: found.method, versions: found.versions };
      }
    } catch (err) {
      if (!(err instanceof DiscoveryError) || !err.reports.every(isNotFound)) throw err;
    }
  }
  throw new ModuleNotFoundError(
    pkgPath,
    tried,
    `${monitor.methods.join(" and ")} know${monitor.methods.length === 1 ? "s" : ""} none of`,
  );
}

/** The method said the module does not exist, or cannot know it (gopherwatch names need a "/"). */
function isNotFound(report: MethodReport): boolean {
  return report.notFound === true || (report.method === "dns" && !report.module.includes("/"));
}

/**
 * Sets up the deployment. On any failure, or when signal aborts, everything made so
 * far is removed and the error is thrown (the signal's reason when aborted).
 * @throws Error naming what could not be done, e.g. `Cannot initialize: "ys" already exists`
 */
export async function initDeployment(options: InitOptions): Promise<InitResult> {
  const { cwd, signal } = options;
  const note = options.onNote ?? (() => {});
  const undo: Array<() => Promise<void>> = [];
  const checkAbort = () => signal?.throwIfAborted();
  try {
    const ysAbs = resolve(cwd, options.dir);
    if (await exists(ysAbs)) {
      throw new Error(
        `Cannot initialize: "${options.dir}" already exists; init only sets up a new ` +
          "deployment (move it away to start over)",
      );
    }
    if (!(await exists(dirname(ysAbs)))) {
      throw new Error(
        `Cannot initialize: "${dirname(options.dir)}", the directory for "${options.dir}", ` +
          "does not exist",
      );
    }
    const problem = checkModulePath(options.pkgPath);
    if (problem !== undefined) {
      throw new Error(`Cannot initialize: "${options.pkgPath}" is not a package path: ${problem}`);
    }
    if (options.version !== undefined && !isValidSemver(options.version)) {
      throw new Error(
        `Cannot initialize: "${options.version}" is not a module version like v1.2.3`,
      );
    }
    const link = commandName(options.pkgPath);
    await refuseExisting(cwd, link, "the service's symlink");

    const { config } = options;
    note(`looking up the module of ${options.pkgPath}`);
    const found = await findModule(options.pkgPath, config.monitor, signal);
    const version = options.version ?? newestStable(found.versions);
    if (version === undefined) {
      throw new Error(
        `Cannot initialize: module "${found.module}" has no stable version yet (only ` +
          `${found.versions.slice(0, 3).map((v) => v.version).join(", ")}); name one: ` +
          `ysco init ${options.pkgPath}@VERSION`,
      );
    }
    let goVersion = options.goVersion;
    if (goVersion === undefined) {
      const tc = await discoverToolchains({
        monitor: config.monitor,
        ...(signal ? { signal } : {}),
      });
      goVersion = tc.toolchains.cur;
      if (goVersion === "") {
        throw new Error("Cannot initialize: no current Go release found; name one with -goversion");
      }
    }
    const pkgDir = found.module === options.pkgPath
      ? "/"
      : options.pkgPath.slice(found.module.length);
    note(
      `found module ${found.module} (${found.method}), ${
        options.version === undefined ? "newest release" : "version"
      } ${version}, ${options.goVersion === undefined ? "current Go release" : "Go"} ${goVersion}`,
    );
    const spec: BuildSpec = {
      mod: found.module,
      version,
      dir: pkgDir,
      goos: options.goos,
      goarch: options.goarch,
      goversion: goVersion,
      stripped: true,
    };
    const specProblem = buildSpecProblem(spec);
    if (specProblem !== undefined) throw new Error(`Cannot initialize: ${specProblem}`);
    const binary = versionFileName(found.module, pkgDir, version, goVersion, options.goos);
    await refuseExisting(cwd, binary, "the binary");
    checkAbort();

    // The state directory, built aside.
    const passwordFile = isAbsolute(options.dir)
      ? join(ysAbs, "password.txt")
      : join(options.dir, "password.txt");
    const configText = formatConfigChanges(
      { ...config, auth_file: passwordFile },
      INIT_CONFIG_HEADER.replace("ys/ysco.toml", join(options.dir, "ysco.toml")),
    );
    parseConfig(configText, join(options.dir, "ysco.toml")); // it must read back
    const password = generatePassword();
    let tmp: string;
    try {
      tmp = await Deno.makeTempDir({ dir: dirname(ysAbs), prefix: `${basename(ysAbs)}.tmp-` });
    } catch (err) {
      throw new Error(`Cannot create "${options.dir}": ${errorMessage(err)}`, { cause: err });
    }
    const tmpDir = tmp;
    undo.push(() => Deno.remove(tmpDir, { recursive: true }));
    try {
      await Deno.chmod(tmp, 0o700);
      await Deno.writeTextFile(join(tmp, "password.txt"), password + "\n", {
        mode: 0o600,
        createNew: true,
      });
      await writeState(tmp, emptyState());
      await Deno.writeTextFile(join(tmp, "ysco.toml"), configText, {
        mode: 0o644,
        createNew: true,
      });
    } catch (err) {
      throw new Error(`Cannot write "${options.dir}" (in ${tmp}): ${errorMessage(err)}`, {
        cause: err,
      });
    }

    // The binary: verified in the log, then downloaded and checked against the record.
    const key = parseVerifierKey(config.gobuild.verifier_key);
    const base = tlogBaseUrl(key.name, config.gobuild.base_url);
    const client = new TlogClient(key.text, {
      ops: httpTlogOps({
        baseUrl: base,
        dir: tmp,
        name: key.name,
        timeoutMs: config.gobuild.timeout,
        fetch: abortableFetch(signal),
      }),
      onSecurityError: (err) => note(err.report),
    });
    note(
      `looking up ${binary} for ${options.goos}/${options.goarch} in the gobuild log ${key.name}`,
    );
    const verified = await client.lookup(spec);
    checkAbort();
    note(`the log vouches for it: record ${verified.id} in a tree of ${verified.tree.size}`);
    const progress = options.onDownload?.(binary, verified.record.size);
    let got;
    try {
      got = await downloadBinary(
        { url: binaryUrl(base, verified.record), record: verified.record, dest: join(cwd, binary) },
        {
          timeoutMs: config.gobuild.timeout,
          ...(signal ? { signal } : {}),
          ...(progress ? { onProgress: (n: number) => progress.update(n) } : {}),
        },
      );
    } catch (err) {
      progress?.end(false);
      throw err;
    }
    progress?.end(true);
    const downloaded = got.path;
    undo.push(() => Deno.remove(downloaded));
    checkAbort();
    try {
      // A hard link does not replace a file that appeared meanwhile, as rename would.
      await Deno.link(downloaded, join(cwd, binary));
    } catch (err) {
      throw new Error(`Cannot create "${binary}" in ${cwd}: ${errorMessage(err)}`, { cause: err });
    }
    undo.push(() => Deno.remove(join(cwd, binary)));
    await Deno.remove(downloaded);

    await symlinkNew(binary, join(cwd, link), undo);
    let ysco: InitResult["ysco"] = "none";
    let yscoTarget: string | undefined;
    if (await exists(join(cwd, "ysco"))) {
      ysco = "existing";
    } else if (options.self !== undefined) {
      yscoTarget = dirname(options.self) === cwd ? basename(options.self) : options.self;
      await symlinkNew(yscoTarget, join(cwd, "ysco"), undo);
      ysco = "created";
    }

    checkAbort();
    if (await exists(ysAbs)) {
      throw new Error(`Cannot initialize: "${options.dir}" appeared while init ran`);
    }
    await Deno.rename(tmp, ysAbs);
    undo.push(() => Deno.remove(ysAbs, { recursive: true }));
    await syncDir(cwd);
    if (dirname(ysAbs) !== cwd) await syncDir(dirname(ysAbs));
    return {
      module: found.module,
      pkgDir,
      version,
      goVersion,
      method: found.method,
      binary,
      link,
      ysco,
      ...(yscoTarget !== undefined ? { yscoTarget } : {}),
      password,
      configText,
      recordId: verified.id,
      treeSize: verified.tree.size,
    };
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => {});
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}

/** The admin URL with credentials, as the original prints it. */
export function adminUrl(addr: string, password: string): string {
  const { host, port } = parseHostPort(addr, { emptyHost: true });
  const shown = host === "" || host === "0.0.0.0" ? "localhost" : host === "::" ? "::1" : host;
  return `http://admin:${password}@${formatHostPort(shown, port)}/`;
}

/** The path to show for a file in cwd: "./name", or relative when outside. */
export function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith("..") || isAbsolute(rel) ? path : `./${rel}`;
}

async function refuseExisting(cwd: string, name: string, what: string): Promise<void> {
  if (await exists(join(cwd, name))) {
    throw new Error(
      `Cannot initialize: "${name}" exists in ${cwd}; init will not replace it (${what}); ` +
        "move it away or run init in another directory",
    );
  }
}

async function symlinkNew(
  target: string,
  path: string,
  undo: Array<() => Promise<void>>,
): Promise<void> {
  try {
    await Deno.symlink(target, path);
  } catch (err) {
    throw new Error(`Cannot create symlink ${path} -> ${target}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  undo.push(() => Deno.remove(path));
}

/** A fetch that also stops when signal aborts (the tlog client takes no signal of its own). */
function abortableFetch(signal: AbortSignal | undefined): typeof fetch {
  if (signal === undefined) return fetch;
  return (input, init) =>
    fetch(input, {
      ...init,
      signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal,
    });
}
