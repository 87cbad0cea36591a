/**
 * Big Go binaries for the benchmarks, each a small module that embeds a blob, built
 * once with Go 1.23 and cached under bench/.cache/:
 *
 * - bigBinary(): at least 200 MB of pseudo-random data, which nothing compresses or
 *   dedupes away (the inspect benchmark reads it);
 * - updateSizedBinary(): about 110 MB of machine code, Go 1.23's own tools one after
 *   another, which gzip compresses as it does a real service binary (the download
 *   benchmark fetches it).
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GO_TOOLCHAINS, run } from "../world/go.ts";

const CACHE = fileURLToPath(new URL(".cache/", import.meta.url));

/** Path of the 200 MB binary of random data, building it when missing. */
export async function bigBinary(): Promise<string> {
  const size = 200 * 1024 * 1024;
  return await cachedBuild("big-go-binary", size, async (file) => {
    const chunk = new Uint8Array(1 << 20);
    let x = 2463534242;
    for (let written = 0; written < size; written += chunk.length) {
      for (let i = 0; i < chunk.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        chunk[i] = x & 0xff;
      }
      await file.write(chunk);
    }
  });
}

/** The size of updateSizedBinary()'s embedded code: with Go's runtime, about 110 MB. */
const CODE_SIZE = 108 * 1000 * 1000;

/**
 * Path of the binary of about 110 MB of machine code (Go 1.23's tools and commands,
 * repeated as needed), building it when missing.
 */
export async function updateSizedBinary(): Promise<string> {
  const goroot = join(GO_TOOLCHAINS["1.23"], "..", "..");
  const dirs = [join(goroot, "bin"), join(goroot, "pkg", "tool", "linux_amd64")];
  const files: string[] = [];
  for (const dir of dirs) {
    const names = (await Array.fromAsync(Deno.readDir(dir))).filter((e) => e.isFile);
    files.push(...names.map((e) => join(dir, e.name)).sort());
  }
  return await cachedBuild("update-sized-go-binary", CODE_SIZE, async (out) => {
    let written = 0;
    while (written < CODE_SIZE) {
      for (const path of files) {
        const data = await Deno.readFile(path);
        const part = data.subarray(0, Math.min(data.length, CODE_SIZE - written));
        await out.write(part);
        written += part.length;
        if (written >= CODE_SIZE) break;
      }
    }
  });
}

/**
 * bench/.cache/NAME, a Go binary embedding blob.bin as written by writeBlob; built
 * when missing or smaller than minSize.
 */
async function cachedBuild(
  name: string,
  minSize: number,
  writeBlob: (file: Deno.FsFile) => Promise<void>,
): Promise<string> {
  const out = join(CACHE, name);
  try {
    if ((await Deno.stat(out)).size >= minSize) return out;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const work = await Deno.makeTempDir({ prefix: "ysco-big-" });
  try {
    await Deno.writeTextFile(join(work, "go.mod"), "module example.com/big\n\ngo 1.21\n");
    await Deno.writeTextFile(
      join(work, "main.go"),
      'package main\n\nimport (\n\t_ "embed"\n\t"fmt"\n)\n\n//go:embed blob.bin\nvar blob []byte\n\nfunc main() { fmt.Println(len(blob)) }\n',
    );
    {
      using file = await Deno.open(join(work, "blob.bin"), { write: true, create: true });
      await writeBlob(file);
    }
    await Deno.mkdir(CACHE, { recursive: true });
    await run(GO_TOOLCHAINS["1.23"], ["build", "-trimpath", "-o", out, "."], {
      cwd: work,
      env: {
        PATH: "/usr/bin:/bin",
        HOME: work,
        GOCACHE: join(work, "gocache"),
        GOTOOLCHAIN: "local",
        GOTELEMETRY: "off",
        CGO_ENABLED: "0",
        GOFLAGS: "-mod=mod",
      },
    });
    return out;
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
