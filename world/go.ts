/**
 * Real Go binaries for tests: a directory-backed Go module proxy holding the test
 * service (example.com/testsvc v1.0.0, v1.0.1, v1.1.0 and example.com/testsvc/v2
 * v2.0.0), binaries built from it with real Go toolchains (`go install pkg@version`,
 * so their build info carries real module versions), and an "oracle" program that
 * answers questions with Go's own libraries for differential tests.
 *
 * Everything is cached under $YSCO_TEST_CACHE (default ~/.cache/ysco-tests), keyed
 * by a hash of the sources, and created with atomic renames so that parallel test
 * processes can share it.
 *
 * @module
 */

import { exists } from "../src/exists.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Go toolchains the tests use, by version. */
export const GO_TOOLCHAINS = {
  "1.23": "/usr/lib/go-1.23/bin/go",
  "1.19": "/usr/lib/go-1.19/bin/go",
  "1.15": Deno.env.get("YSCO_TEST_GO115") ?? "/opt/go-1.15/usr/lib/go-1.15/bin/go",
} as const;

/** A Go toolchain version the tests can build with. */
export type GoToolchain = keyof typeof GO_TOOLCHAINS;

/** Module path of the test service. */
export const TESTSVC = "example.com/testsvc";
/** Module path of the test service's second major version. */
export const TESTSVC_V2 = "example.com/testsvc/v2";
/** Versions of example.com/testsvc in the base proxy, oldest first. */
export const TESTSVC_VERSIONS = ["v1.0.0", "v1.0.1", "v1.1.0"] as const;
/** Versions of example.com/testsvc/v2 in the base proxy. */
export const TESTSVC_V2_VERSIONS = ["v2.0.0"] as const;

const TESTDATA = fileURLToPath(new URL("./testdata/", import.meta.url));
const TESTSVC_SRC = join(TESTDATA, "testsvc");
const ORACLE_SRC = join(TESTDATA, "oracle");
/** golang.org/x/mod as vendored in Go 1.23's source tree, served by the proxy for the oracle. */
const XMOD_SRC = "/usr/lib/go-1.23/src/cmd/vendor/golang.org/x/mod";
const XMOD_VERSION = "v0.19.0";
/** Bump to invalidate every cache entry when this file's output changes. */
const LAYOUT_VERSION = "4";

/** Where cached proxies and binaries live. */
export function cacheRoot(): string {
  return Deno.env.get("YSCO_TEST_CACHE") ??
    join(Deno.env.get("HOME") ?? "/tmp", ".cache", "ysco-tests");
}

let keyPromise: Promise<string> | undefined;

/** A hash of everything the cached files are built from. */
function sourceKey(): Promise<string> {
  keyPromise ??= (async () => {
    const parts: string[] = [LAYOUT_VERSION];
    for (const root of [TESTSVC_SRC, ORACLE_SRC]) {
      for (const f of await listFiles(root)) {
        parts.push(f, await Deno.readTextFile(join(root, f)));
      }
    }
    return (await sha256Hex(parts.join("\0"))).slice(0, 16);
  })();
  return keyPromise;
}

let proxyPromise: Promise<string> | undefined;

/**
 * The shared base module proxy directory (GOPROXY=file://DIR). Read-only: tests that
 * publish versions copy it first with copyProxy().
 */
export function goProxyDir(): Promise<string> {
  proxyPromise ??= (async () => {
    const dir = join(cacheRoot(), await sourceKey(), "proxy");
    await createOnce(dir, async (tmp) => {
      const mod = await Deno.readTextFile(join(TESTSVC_SRC, "go.mod"));
      for (const [i, v] of TESTSVC_VERSIONS.entries()) {
        await publishModule(tmp, TESTSVC, v, await sourceFiles(TESTSVC_SRC), dayTime(i));
      }
      for (const [i, v] of TESTSVC_V2_VERSIONS.entries()) {
        const files = await sourceFiles(TESTSVC_SRC);
        files["go.mod"] = mod.replace(`module ${TESTSVC}\n`, `module ${TESTSVC_V2}\n`);
        await publishModule(tmp, TESTSVC_V2, v, files, dayTime(10 + i));
      }
      const xmod = await sourceFiles(XMOD_SRC);
      xmod["go.mod"] = "module golang.org/x/mod\n\ngo 1.18\n";
      await publishModule(tmp, "golang.org/x/mod", XMOD_VERSION, xmod, dayTime(0));
    });
    return dir;
  })();
  return proxyPromise;
}

/** Copies the base proxy to dest (a new directory), for tests that publish versions. */
export async function copyProxy(dest: string): Promise<void> {
  await run("cp", ["-r", await goProxyDir(), dest]);
}

/**
 * Publishes one version of a test service module in a proxy directory: a copy of
 * the test service source with the given module path, plus extra files (and a newer
 * `go` line for them, e.g. for `//go:embed`).
 */
export async function publishTestsvc(
  proxyDir: string,
  modulePath: string,
  version: string,
  time: Date,
  extra: { files?: Record<string, string | Uint8Array>; go?: string } = {},
): Promise<void> {
  const files = { ...await sourceFiles(TESTSVC_SRC), ...extra.files };
  files["go.mod"] = `module ${modulePath}\n\ngo ${extra.go ?? "1.15"}\n`;
  await publishModule(proxyDir, modulePath, version, files, time);
}

/** Options for goBuild. */
export interface GoBuildOptions {
  /** @default TESTSVC */
  module?: string;
  version: string;
  /** Package directory inside the module. @default "cmd/testsvc" */
  pkg?: string;
  /** @default "1.23" */
  go?: GoToolchain;
  /** @default "linux" */
  goos?: string;
  /** @default "amd64" */
  goarch?: string;
  /** A proxy directory other than the base proxy (for published versions). */
  proxyDir?: string;
}

/**
 * Builds a module's command with a real Go toolchain through the module proxy, the
 * way gobuild builds stripped binaries (-trimpath -ldflags="-buildid= -s"), and
 * returns the path of the cached binary. Do not modify it: copy it.
 */
export async function goBuild(options: GoBuildOptions): Promise<string> {
  const module = options.module ?? TESTSVC;
  const pkg = options.pkg ?? "cmd/testsvc";
  const go = options.go ?? "1.23";
  const goos = options.goos ?? "linux";
  const goarch = options.goarch ?? "amd64";
  const proxy = options.proxyDir ?? await goProxyDir();
  const key = await sourceKey();
  const proxyTag = options.proxyDir === undefined ? "" : `-${(await sha256Hex(proxy)).slice(0, 8)}`;
  const name = `go${go}-${goos}-${goarch}-${module.replaceAll("/", "_")}@${options.version}-${
    pkg.replaceAll("/", "_")
  }${proxyTag}`;
  const out = join(cacheRoot(), key, "bin", name);
  if (await exists(out)) return out;

  const gopath = await Deno.makeTempDir({ prefix: "ysco-gopath-" });
  try {
    const target = `${module}/${pkg}@${options.version}`;
    const env = goEnv(go, proxy, { GOPATH: gopath, GOOS: goos, GOARCH: goarch, HOME: gopath });
    const flags = ["-trimpath", "-ldflags=-buildid= -s"];
    if (go === "1.15") {
      // Go 1.15 has no "go install pkg@version"; "go get" outside a module does the same.
      await run(GO_TOOLCHAINS[go], ["get", ...flags, target], { env, cwd: gopath });
    } else {
      await run(GO_TOOLCHAINS[go], ["install", ...flags, target], { env, cwd: gopath });
    }
    const native = goos === "linux" && goarch === "amd64";
    const exe = pkg.split("/").pop() + (goos === "windows" ? ".exe" : "");
    const built = join(gopath, "bin", native ? "" : `${goos}_${goarch}`, exe);
    await Deno.mkdir(join(cacheRoot(), key, "bin"), { recursive: true });
    const tmp = `${out}.tmp-${crypto.randomUUID()}`;
    await Deno.copyFile(built, tmp);
    await Deno.rename(tmp, out);
    return out;
  } finally {
    await run("chmod", ["-R", "u+w", gopath]).catch(() => {});
    await Deno.remove(gopath, { recursive: true });
  }
}

let oraclePromise: Promise<string> | undefined;

/** Builds (once) the oracle program of world/testdata/oracle and returns its path. */
function oracleBinary(): Promise<string> {
  oraclePromise ??= (async () => {
    const out = join(cacheRoot(), await sourceKey(), "bin", "oracle");
    if (await exists(out)) return out;
    const work = await Deno.makeTempDir({ prefix: "ysco-oracle-" });
    try {
      for (const f of await listFiles(ORACLE_SRC)) {
        await Deno.copyFile(join(ORACLE_SRC, f), join(work, f));
      }
      const env = goEnv("1.23", await goProxyDir(), {
        GOPATH: join(work, "gopath"),
        HOME: work,
        GOFLAGS: "-modcacherw -mod=mod",
      });
      await Deno.mkdir(join(cacheRoot(), await sourceKey(), "bin"), { recursive: true });
      const tmp = `${out}.tmp-${crypto.randomUUID()}`;
      await run(GO_TOOLCHAINS["1.23"], ["build", "-o", tmp, "."], { env, cwd: work });
      await Deno.rename(tmp, out);
      return out;
    } finally {
      await run("chmod", ["-R", "u+w", work]).catch(() => {});
      await Deno.remove(work, { recursive: true });
    }
  })();
  return oraclePromise;
}

/**
 * Asks Go itself: each request is a list of fields (see world/testdata/oracle), each
 * answer one line.
 */
export async function goOracle(requests: readonly string[][]): Promise<string[]> {
  const input = requests.map((r) => r.join("\t")).join("\n") + "\n";
  const out = await run(await oracleBinary(), [], { stdin: input });
  const lines = out.split("\n");
  lines.pop();
  if (lines.length !== requests.length) {
    throw new Error(`oracle answered ${lines.length} lines for ${requests.length} requests`);
  }
  return lines;
}

function goEnv(
  go: GoToolchain,
  proxyDir: string,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    PATH: "/usr/bin:/bin",
    // The build cache is content-addressed and safe to share. The module cache is
    // not: it keeps the first content it saw of a module version, so each proxy
    // directory gets its own, next to it.
    GOCACHE: join(cacheRoot(), `gocache-${go}`),
    GOMODCACHE: `${proxyDir}.modcache-${go}`,
    GOPROXY: `file://${proxyDir}`,
    GOSUMDB: "off",
    GOTOOLCHAIN: "local",
    GOTELEMETRY: "off",
    GOFLAGS: "-modcacherw",
    CGO_ENABLED: "0",
    GO111MODULE: "on",
    ...extra,
  };
}

/**
 * Writes one module version into a proxy directory (@v/list, .info, .mod, .zip);
 * the zip is made by the `zip` tool, as a real proxy would serve it.
 */
export async function publishModule(
  proxyDir: string,
  modulePath: string,
  version: string,
  files: Record<string, string | Uint8Array>,
  time: Date,
): Promise<void> {
  const vdir = join(proxyDir, escapeModulePath(modulePath), "@v");
  await Deno.mkdir(vdir, { recursive: true });
  const stage = await Deno.makeTempDir({ prefix: "ysco-zip-" });
  try {
    const root = join(stage, `${modulePath}@${version}`);
    for (const [name, content] of Object.entries(files)) {
      const path = join(root, name);
      await Deno.mkdir(join(path, ".."), { recursive: true });
      if (typeof content === "string") await Deno.writeTextFile(path, content);
      else await Deno.writeFile(path, content);
    }
    const zip = join(vdir, `${version}.zip`);
    await Deno.remove(zip).catch(() => {});
    await run("zip", ["-q", "-r", "-X", "-D", zip, `${modulePath}@${version}`], { cwd: stage });
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
  const gomod = files["go.mod"];
  await Deno.writeTextFile(
    join(vdir, `${version}.mod`),
    typeof gomod === "string" ? gomod : `module ${modulePath}\n`,
  );
  await Deno.writeTextFile(
    join(vdir, `${version}.info`),
    JSON.stringify({ Version: version, Time: time.toISOString().replace(/\.000Z$/, "Z") }) + "\n",
  );
  const listPath = join(vdir, "list");
  const list = (await Deno.readTextFile(listPath).catch(() => "")).split("\n").filter((l) => l);
  if (!list.includes(version)) list.push(version);
  await Deno.writeTextFile(listPath, list.join("\n") + "\n");
}

/** Go's module path case escaping for proxy URLs and directories ("!" + lowercase). */
function escapeModulePath(path: string): string {
  return path.replace(/[A-Z]/g, (c) => "!" + c.toLowerCase());
}

async function sourceFiles(root: string): Promise<Record<string, string | Uint8Array>> {
  const files: Record<string, string | Uint8Array> = {};
  for (const f of await listFiles(root)) files[f] = await Deno.readFile(join(root, f));
  return files;
}

async function listFiles(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  const entries = [];
  for await (const e of Deno.readDir(join(root, prefix))) entries.push(e);
  entries.sort((a, b) => a.name < b.name ? -1 : 1);
  for (const e of entries) {
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory) out.push(...await listFiles(root, rel));
    else if (e.isFile) out.push(rel);
  }
  return out;
}

/** Creates dir by filling a temporary sibling and renaming it; a no-op when dir exists. */
async function createOnce(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  if (await exists(dir)) return;
  await Deno.mkdir(join(dir, ".."), { recursive: true });
  const tmp = `${dir}.tmp-${crypto.randomUUID()}`;
  await Deno.mkdir(tmp);
  try {
    await fill(tmp);
    await Deno.rename(tmp, dir);
  } catch (err) {
    await Deno.remove(tmp, { recursive: true });
    if (await exists(dir)) return; // another process won the race
    throw err;
  }
}

function dayTime(day: number): Date {
  return new Date(Date.UTC(2024, 0, 1 + day));
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs a command; returns stdout, throws with stderr when it fails. */
export async function run(
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<string> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    ...(options.env ? { env: options.env, clearEnv: true } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const { code, stdout, stderr } = await child.output();
  const dec = new TextDecoder();
  if (code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${code}):\n${dec.decode(stderr)}${dec.decode(stdout)}`,
    );
  }
  return dec.decode(stdout);
}

/** Cross-compiled builds of cmd/hello used by the build info tests: [goos, goarch]. */
export const CROSS_TARGETS = [
  ["linux", "amd64"],
  ["linux", "arm64"],
  ["linux", "386"],
  ["linux", "mips"],
  ["linux", "ppc64"],
  ["darwin", "arm64"],
  ["darwin", "amd64"],
  ["windows", "amd64"],
  ["windows", "386"],
] as const;

/**
 * Builds every fixture the suite uses, one after another, so that parallel test
 * files find them cached instead of all compiling the standard library at once.
 */
export async function warmCache(log: (line: string) => void): Promise<void> {
  const builds: GoBuildOptions[] = [
    ...TESTSVC_VERSIONS.map((version) => ({ version })),
    ...TESTSVC_V2_VERSIONS.map((version) => ({ module: TESTSVC_V2, version })),
    { version: "v1.0.0", go: "1.19" },
    { version: "v1.0.0", go: "1.15" },
    ...CROSS_TARGETS.map(([goos, goarch]) => ({
      version: "v1.0.0",
      pkg: "cmd/hello",
      goos,
      goarch,
    })),
  ];
  for (const b of builds) {
    const t0 = performance.now();
    const path = await goBuild(b);
    log(`${path.split("/").pop()} (${Math.round(performance.now() - t0)} ms)`);
  }
  const t0 = performance.now();
  await oracleBinary();
  log(`oracle (${Math.round(performance.now() - t0)} ms)`);
}
