/**
 * `ysco fetch [-dir DIR] [-o FILE] [-goos OS -goarch ARCH] PKGPATH@VERSION [GOVERSION]`:
 * looks up one build in gobuild's transparency log, verifies it and downloads it
 * (like `gobuild get`). Prints the record and the verified tree size.
 *
 * @module
 */

import { join } from "node:path";
import { DEFAULT_VERIFIER_KEY } from "../config/config.ts";
import { parseDuration } from "../duration.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { readConfigOrDefaults } from "../config/load.ts";
import { ConfigError } from "../config/parse.ts";
import { discoverToolchains } from "../discover/mod.ts";
import { hostGoarch, hostGoos } from "../buildinfo/platform.ts";
import {
  binaryUrl,
  type BuildSpec,
  buildSpecProblem,
  tlogBaseUrl,
  versionFileName,
} from "../verify/buildspec.ts";
import { downloadBinary } from "../verify/download.ts";
import { SecurityError } from "../verify/errors.ts";
import { TlogClient } from "../verify/tlog_client.ts";
import { httpTlogOps } from "../verify/tlog_ops.ts";
import { parseVerifierKey } from "../verify/verifier_key.ts";
import type { Command } from "./command.ts";
import { formatFlags, parseFlags } from "./flags.ts";

const FLAGS = {
  dir: {
    type: "string",
    value: "DIR",
    default: "ys",
    help: "directory of the log's cache; the defaults of the flags below come from its ysco.toml",
  },
  o: {
    type: "string",
    value: "FILE",
    help: "where to write the binary (default: its versioned name in the working directory)",
  },
  goos: { type: "string", value: "OS", help: `target OS (default: ${hostGoos()})` },
  goarch: { type: "string", value: "ARCH", help: `target architecture (default: ${hostGoarch()})` },
  verifierkey: {
    type: "string",
    value: "KEY",
    help:
      `verifier key of the gobuild log (default: gobuild.verifier_key, ${DEFAULT_VERIFIER_KEY})`,
  },
  baseurl: {
    type: "string",
    value: "URL",
    help: "base URL of the log (default: https://NAME/tlog, NAME from the key)",
  },
  goproxy: {
    type: "string",
    value: "URL",
    help: "Go module proxy, to find the module of PKGPATH (default: monitor.goproxy)",
  },
  timeout: {
    type: "string",
    value: "DURATION",
    help: "limit for each request and the download (default: gobuild.timeout, 10m)",
  },
  unstripped: { type: "boolean", help: "fetch a build without -s (ysco installs stripped ones)" },
} as const;

/** The fetch command. */
export const fetchCommand: Command = {
  name: "fetch",
  usage: `usage: ysco fetch [flags] PKGPATH@VERSION [GOVERSION]
       ysco fetch [flags] MODPATH@VERSION[/DIR] [GOVERSION]

Looks up a build of a Go command in the gobuild transparency log, verifies that the
log's signed tree vouches for it and is consistent with every tree seen before (the
cache in DIR), then downloads the binary and checks its size and SHA-256 against the
record. Prints the record and the verified tree size.

PKGPATH is the command's package path; its module is found through the Go module
proxy. Or name the module and the package directory explicitly, as gobuild does:
example.com/mod@v1.2.3/cmd/tool. GOVERSION is a Go toolchain like go1.23.3; without
it, the current Go release, found as "ysco run" finds toolchains ([monitor]).

flags:
${formatFlags(FLAGS)}`,
  async run(args, io) {
    const { flags, given, rest } = parseFlags(args, FLAGS, { stopAtOperand: false });
    const [target, goversionArg, extra] = rest;
    if (target === undefined) throw new UsageError("missing PKGPATH@VERSION");
    if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
    let config;
    try {
      config = await readConfigOrDefaults(flags.dir);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.err(err.message + "\n");
      return 1;
    }
    const setting = (name: "verifierkey" | "baseurl" | "goproxy" | "timeout", fallback: string) =>
      given.has(name) ? flags[name] : fallback;
    const at = target.indexOf("@");
    if (at <= 0 || at === target.length - 1) {
      throw new UsageError(`"${target}" is not PKGPATH@VERSION`);
    }
    let timeoutMs: number;
    try {
      timeoutMs = given.has("timeout") ? parseDuration(flags.timeout) : config.gobuild.timeout;
    } catch (err) {
      throw new UsageError(`flag "-timeout": ${errorMessage(err)}`);
    }
    if (!(timeoutMs > 0)) throw new UsageError(`flag "-timeout" must be positive`);
    let key;
    try {
      key = parseVerifierKey(setting("verifierkey", config.gobuild.verifier_key));
    } catch (err) {
      throw new UsageError(`flag "-verifierkey": ${errorMessage(err)}`);
    }
    const base = tlogBaseUrl(key.name, setting("baseurl", config.gobuild.base_url));
    let goversion = goversionArg;
    if (goversion === undefined) {
      try {
        goversion = (await discoverToolchains({ monitor: config.monitor })).toolchains.cur;
      } catch (err) {
        io.err(
          `ysco fetch: cannot find the current Go release (give GOVERSION): ${errorMessage(err)}\n`,
        );
        return 1;
      }
      if (goversion === "") {
        io.err("ysco fetch: no current Go release found (give GOVERSION)\n");
        return 1;
      }
    }

    const path = target.slice(0, at);
    const versionPart = target.slice(at + 1);
    const slash = versionPart.indexOf("/");
    const version = slash < 0 ? versionPart : versionPart.slice(0, slash);
    const spec0 = {
      version,
      goos: given.has("goos") ? flags.goos : hostGoos(),
      goarch: given.has("goarch") ? flags.goarch : hostGoarch(),
      goversion,
      stripped: !flags.unstripped,
    };
    let spec: BuildSpec;
    if (slash >= 0) {
      spec = { ...spec0, mod: path, dir: versionPart.slice(slash) };
    } else {
      const mod = await findModule(
        path,
        version,
        setting("goproxy", config.monitor.goproxy),
        timeoutMs,
      );
      spec = { ...spec0, mod, dir: mod === path ? "/" : path.slice(mod.length) };
    }
    const problem = buildSpecProblem(spec);
    if (problem !== undefined) throw new UsageError(`"${target}": ${problem}`);

    const client = new TlogClient(key.text, {
      ops: httpTlogOps({ baseUrl: base, dir: flags.dir, name: key.name, timeoutMs }),
      onSecurityError: (err) => io.err(err.report + "\n"),
    });
    let verified;
    try {
      verified = await client.lookup(spec);
    } catch (err) {
      if (err instanceof SecurityError) {
        io.err(`ysco fetch: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    const { record } = verified;
    io.out(`record ${verified.id}: ${verified.text}`);
    io.out(
      `verified in the tree of size ${verified.tree.size} of log ${key.name}` +
        `${verified.cached ? " (lookup from the cache)" : ""}\n`,
    );

    const out = given.has("o") ? flags.o : join(".", versionFileName(record));
    const current = await Deno.stat(out).then((st) => st.isFile, () => false);
    const url = binaryUrl(base, record);
    const got = await downloadBinary({ url, record, dest: out }, {
      timeoutMs,
      ...(current ? { modeFrom: out } : {}),
    });
    try {
      await Deno.rename(got.path, out);
    } catch (err) {
      await Deno.remove(got.path).catch(() => {});
      throw new Error(`Cannot move the binary to "${out}": ${errorMessage(err)}`, { cause: err });
    }
    io.out(
      `wrote ${out} (${got.size} bytes, sha256 ${got.sha256})\n`,
    );
    return 0;
  },
};

/**
 * Finds the module of a package path at a version through a Go module proxy: the
 * longest prefix of the path for which the proxy knows the version.
 * (The proxy knows every version; gopherwatch DNS only the newest per major.)
 */
async function findModule(
  pkgPath: string,
  version: string,
  proxy: string,
  timeoutMs: number,
): Promise<string> {
  const base = proxy.replace(/\/+$/, "");
  const escape = (s: string) => s.replace(/[A-Z]/g, (c) => "!" + c.toLowerCase());
  const tried: string[] = [];
  for (let mod = pkgPath; mod.includes("."); mod = mod.slice(0, mod.lastIndexOf("/"))) {
    const url = `${base}/${escape(mod)}/@v/${escape(version)}.info`;
    tried.push(mod);
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new Error(`Cannot find the module of "${pkgPath}": ${url}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    await res.body?.cancel();
    if (res.status === 200) return mod;
    if (res.status !== 404 && res.status !== 410) {
      throw new Error(`Cannot find the module of "${pkgPath}": ${url}: status ${res.status}`);
    }
    if (!mod.includes("/")) break;
  }
  throw new Error(
    `Cannot find the module of "${pkgPath}": the proxy ${base} has version ${version} of none of ` +
      tried.map((m) => `"${m}"`).join(", "),
  );
}
