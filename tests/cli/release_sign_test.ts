import { assertEquals, assertMatch } from "../_assert.ts";
import { formatSignerKey } from "../../src/verify/note.ts";
import { openFeed } from "../../src/self/feed.ts";
import { RELEASE_SIGNER, RELEASE_VERIFIER_KEY } from "../_releases.ts";
import { tempDir, ysco } from "../../world/util.ts";

Deno.test("ysco release-sign makes a signed feed and adds releases to an earlier one", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/signer.key`, formatSignerKey(RELEASE_SIGNER) + "\n");
  await Deno.writeTextFile(`${dir.path}/ysco-linux-amd64`, "binary one\n");
  await Deno.writeTextFile(`${dir.path}/ysco-darwin-arm64`, "binary two!\n");
  const first = await ysco([
    "release-sign",
    "-key",
    "signer.key",
    "-version",
    "v0.1.0",
    "-o",
    "feed",
    "ysco-linux-amd64",
    "ysco-darwin-arm64",
  ], { cwd: dir.path });
  assertEquals(first.code, 0, first.stderr);
  let feed = openFeed(
    await Deno.readFile(`${dir.path}/feed`),
    RELEASE_VERIFIER_KEY,
    "https://r.example/ysco/feed",
  );
  assertEquals(feed.files.map((f) => [f.version, f.platform, f.size, f.url]), [
    ["v0.1.0", "darwin-arm64", 12, "https://r.example/ysco/v0.1.0/ysco-darwin-arm64"],
    ["v0.1.0", "linux-amd64", 11, "https://r.example/ysco/v0.1.0/ysco-linux-amd64"],
  ]);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode("binary one\n")),
  );
  assertEquals(
    feed.files[1]?.sha256,
    Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
  );

  await Deno.writeTextFile(`${dir.path}/ysco-linux-amd64`, "binary one, improved\n");
  const second = await ysco([
    "release-sign",
    "-key",
    "signer.key",
    "-version",
    "v0.2.0",
    "-url",
    "https://cdn.example/ysco",
    "-feed",
    "feed",
    "ysco-linux-amd64",
  ], { cwd: dir.path });
  assertEquals(second.code, 0, second.stderr);
  feed = openFeed(
    new TextEncoder().encode(second.stdout),
    RELEASE_VERIFIER_KEY,
    "https://r.example/ysco/feed",
  );
  assertEquals(feed.files.map((f) => `${f.version} ${f.platform}`), [
    "v0.2.0 linux-amd64",
    "v0.1.0 darwin-arm64",
    "v0.1.0 linux-amd64",
  ]);
  assertEquals(feed.files[0]?.url, "https://cdn.example/ysco/v0.2.0/ysco-linux-amd64");

  const bad = await ysco(
    ["release-sign", "-key", "signer.key", "-version", "v0.3.0", "notes.txt"],
    { cwd: dir.path },
  );
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /"notes\.txt" is not named ysco-GOOS-GOARCH/);
  const keys = await ysco(["release-sign", "-genkey", "releases.example.com"]);
  assertMatch(
    keys.stdout,
    /^signer key \(secret\): PRIVATE\+KEY\+releases\.example\.com\+[0-9a-f]{8}\+\S+\nverifier key: releases\.example\.com\+[0-9a-f]{8}\+\S+\n$/,
  );
});
