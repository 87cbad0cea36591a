/**
 * Releases of ysco for self-update tests: the program bundled (`deno bundle`) from
 * this checkout with a stamped version, wrapped in an executable that stands in for
 * a compiled release, and a release feed signed with a test key, served over HTTP on
 * 127.0.0.1.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Feed, type ReleaseFile, signFeed } from "../src/self/feed.ts";
import { signerFromSeed, type SignerKey, verifierKeyOf } from "../src/verify/note.ts";
import { run } from "../world/go.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The test signer of release feeds (deterministic). */
export const RELEASE_SIGNER: SignerKey = signerFromSeed(
  "releases.test",
  new Uint8Array(32).fill(7),
);
/** Its verifier key, for [self] verifier_key. */
export const RELEASE_VERIFIER_KEY = verifierKeyOf(RELEASE_SIGNER);
/** A key the feed is not signed with. */
export const FORGER: SignerKey = signerFromSeed("releases.test", new Uint8Array(32).fill(9));

const built = new Map<string, Promise<string>>();

/**
 * This test process's directory for releases: test files run in parallel processes,
 * and one must never rewrite a bundle that another's ysco runs. Removed at exit.
 */
let releaseDir: Promise<string> | undefined;
function ownDir(): Promise<string> {
  releaseDir ??= Deno.makeTempDir({ prefix: "ysco-releases-" }).then((dir) => {
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // gone already
      }
    });
    return dir;
  });
  return releaseDir;
}

/**
 * An executable release of ysco with version: bundles the checkout with that version
 * stamped in, and writes a wrapper that runs the bundle as bin/ysco runs main.ts.
 * Built once per test process, in a directory of its own.
 */
export function releaseBinary(version: string): Promise<string> {
  let p = built.get(version);
  if (p === undefined) {
    p = ownDir().then((dir) => build(dir, version));
    built.set(version, p);
  }
  return p;
}

async function build(dir: string, version: string): Promise<string> {
  const src = await Deno.makeTempDir({ prefix: "ysco-release-src-" });
  try {
    for (const f of ["main.ts", "deno.json", "deno.lock"]) {
      await Deno.copyFile(join(ROOT, f), join(src, f));
    }
    await run("cp", ["-r", join(ROOT, "src"), join(src, "src")]);
    await Deno.writeTextFile(
      join(src, "src", "self", "ysco_version.ts"),
      `/** Stamped by the test's release build. */\nexport const YSCO_VERSION = "${version}";\n`,
    );
    const bundle = join(dir, `ysco-${version}.js`);
    await run(Deno.execPath(), ["bundle", "--quiet", "-o", bundle, "main.ts"], {
      cwd: src,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? "/root",
        NO_COLOR: "1",
      },
    });
    const wrapper = join(dir, `ysco-${version}-linux-amd64`);
    const flags = (await Deno.readTextFile(join(ROOT, "bin", "ysco"))).match(/--allow-[a-z-]+/g) ??
      [];
    await Deno.writeTextFile(
      wrapper,
      `#!/bin/sh\n# ysco ${version}, standing in for a compiled release.\n` +
        `YSCO_SELF=\${YSCO_SELF:-$0} exec ${Deno.execPath()} run --quiet --no-prompt ${
          flags.join(" ")
        } ${bundle} "$@"\n`,
      { mode: 0o755 },
    );
    return wrapper;
  } finally {
    await Deno.remove(src, { recursive: true });
  }
}

/** A release file entry for a built binary, served at url. */
export async function releaseFile(
  version: string,
  binary: string,
  url: string,
): Promise<ReleaseFile> {
  const bytes = await Deno.readFile(binary);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return { version, platform: "linux-amd64", sha256, size: bytes.length, url };
}

/** A server of a release feed and its files; change what it serves at any time. */
export interface FeedServer extends AsyncDisposable {
  /** URL of the feed. */
  url: string;
  /** Base URL for files. */
  base: string;
  /** The signed feed served at url. */
  feed: Uint8Array;
  /** Files by path ("/v0.9.1/ysco-linux-amd64"). */
  files: Map<string, Uint8Array>;
  /** Signs and serves a feed. */
  publish(feed: Feed, signer?: SignerKey): void;
}

/** Starts a feed server on 127.0.0.1. */
export function startFeedServer(): FeedServer {
  const state: { feed: Uint8Array; files: Map<string, Uint8Array> } = {
    feed: new Uint8Array(),
    files: new Map(),
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/feed") return new Response(state.feed.slice());
    const file = state.files.get(path);
    return file ? new Response(file.slice()) : new Response("not found\n", { status: 404 });
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    url: `${base}/feed`,
    base,
    get feed() {
      return state.feed;
    },
    set feed(f: Uint8Array) {
      state.feed = f;
    },
    files: state.files,
    publish(feed, signer = RELEASE_SIGNER) {
      state.feed = signFeed(feed, signer);
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
