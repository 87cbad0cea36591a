/**
 * A Go binary of at least 200 MB for the inspect benchmark: a small module that
 * embeds 200 MB of data, built once with Go 1.23 and cached under bench/.cache/.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GO_TOOLCHAINS, run } from "../tests/_go.ts";

const CACHE = fileURLToPath(new URL("./.cache/", import.meta.url));
const SIZE = 200 * 1024 * 1024;

/** Path of the big binary, building it when missing. */
export async function bigBinary(): Promise<string> {
  const out = join(CACHE, "big-go-binary");
  try {
    if ((await Deno.stat(out)).size >= SIZE) return out;
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
    // Pseudo-random data, so that nothing compresses or dedupes it away.
    const file = await Deno.open(join(work, "blob.bin"), { write: true, create: true });
    const chunk = new Uint8Array(1 << 20);
    let x = 2463534242;
    for (let written = 0; written < SIZE; written += chunk.length) {
      for (let i = 0; i < chunk.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        chunk[i] = x & 0xff;
      }
      await file.write(chunk);
    }
    file.close();
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
