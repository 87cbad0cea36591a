/**
 * Real Go binaries that world/go.ts does not build: programs built outside any
 * module (GOPATH mode, or `go build` of a file, as Debian builds its Go packages),
 * and module builds with a GOEXPERIMENT (whose Go version reads
 * "go1.23.5 X:nocoverageredesign"). Cached next to the other fixtures, under the
 * same key of their sources (and LAYOUT for the program here).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { exists } from "../../src/exists.ts";
import {
  cacheRoot,
  GO_TOOLCHAINS,
  goProxyDir,
  type GoToolchain,
  run,
  TESTSVC,
} from "../../world/go.ts";

/** Bump when HELLO or the builds change. */
const LAYOUT = "1";

const HELLO = `package main

import "fmt"

func main() { fmt.Println("hello") }
`;

/** Options for the builds here. */
export interface BuildOptions {
  /** @default "1.23" */
  go?: GoToolchain;
  /** @default "linux" */
  goos?: string;
  /** @default "amd64" */
  goarch?: string;
}

/**
 * Builds a hello program from a lone file with GO111MODULE=off: a Go binary
 * without a main module (Go 1.18+: path "command-line-arguments" and settings) or
 * without any module information (before Go 1.18).
 */
export async function buildOutsideModule(o: BuildOptions = {}): Promise<string> {
  const go = o.go ?? "1.23";
  const goos = o.goos ?? "linux";
  const goarch = o.goarch ?? "amd64";
  return await cached(`gopath-go${go}-${goos}-${goarch}`, async (work, out) => {
    await Deno.writeTextFile(join(work, "hello.go"), HELLO);
    await run(GO_TOOLCHAINS[go], ["build", "-o", out, "hello.go"], {
      cwd: work,
      env: env(go, work, { GO111MODULE: "off", GOOS: goos, GOARCH: goarch }),
    });
  });
}

/** Builds example.com/testsvc/cmd/testsvc@version with Go 1.23 and GOEXPERIMENT=experiment. */
export async function buildWithExperiment(version: string, experiment: string): Promise<string> {
  return await cached(`experiment-${experiment}-${version}`, async (work, out) => {
    await run(GO_TOOLCHAINS["1.23"], ["install", `${TESTSVC}/cmd/testsvc@${version}`], {
      cwd: work,
      env: env("1.23", work, {
        GO111MODULE: "on",
        GOPROXY: `file://${await goProxyDir()}`,
        GOSUMDB: "off",
        GOFLAGS: "-modcacherw",
        GOEXPERIMENT: experiment,
      }),
    });
    await Deno.copyFile(join(work, "gopath", "bin", "testsvc"), out);
  });
}

function env(go: GoToolchain, work: string, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: "/usr/bin:/bin",
    HOME: work,
    GOPATH: join(work, "gopath"),
    GOCACHE: join(cacheRoot(), `gocache-${go}`),
    GOTOOLCHAIN: "local",
    GOTELEMETRY: "off",
    CGO_ENABLED: "0",
    ...extra,
  };
}

/** Builds into a temporary directory once; later calls (and other processes) find the file. */
async function cached(
  name: string,
  build: (work: string, out: string) => Promise<void>,
): Promise<string> {
  // Next to the proxy, whose directory name is the hash of the test sources.
  const dir = join(dirname(await goProxyDir()), `buildinfo-${LAYOUT}`);
  const out = join(dir, name);
  if (await exists(out)) return out;
  await Deno.mkdir(dir, { recursive: true });
  const work = await Deno.makeTempDir({ prefix: "ysco-build-" });
  try {
    const built = join(work, "out");
    await build(work, built);
    // The cache may be on another file system: copy next to the final name, then rename.
    const tmp = `${out}.tmp-${crypto.randomUUID()}`;
    await Deno.copyFile(built, tmp);
    await Deno.rename(tmp, out);
    return out;
  } finally {
    await run("chmod", ["-R", "u+w", work]).catch(() => {});
    await Deno.remove(work, { recursive: true });
  }
}
