import { assertEquals, assertThrows } from "../_assert.ts";
import {
  type Feed,
  feedMark,
  filesFor,
  formatFeed,
  newestVersion,
  openFeed,
  parseFeed,
  signFeed,
  staleFeedProblem,
} from "../../src/self/feed.ts";
import { FORGER, RELEASE_SIGNER, RELEASE_VERIFIER_KEY } from "../_releases.ts";

const SHA = "a".repeat(64);
const FEED: Feed = {
  time: "2026-11-25T12:00:00.000Z",
  files: [
    {
      version: "v0.1.0",
      platform: "linux-amd64",
      sha256: SHA,
      size: 10,
      url: "https://r.example/v0.1.0/ysco-linux-amd64",
    },
    {
      version: "v0.2.0",
      platform: "linux-amd64",
      sha256: SHA,
      size: 12,
      url: "https://r.example/v0.2.0/ysco-linux-amd64",
    },
    {
      version: "v0.2.0",
      platform: "darwin-arm64",
      sha256: SHA,
      size: 11,
      url: "https://r.example/v0.2.0/ysco-darwin-arm64",
    },
  ],
};

Deno.test("a release feed round-trips through its text and signature", () => {
  const text = formatFeed(FEED);
  assertEquals(text.split("\n").slice(0, 3), [
    "ysco releases",
    "2026-11-25T12:00:00.000Z",
    `v0.2.0 darwin-arm64 ${SHA} 11 https://r.example/v0.2.0/ysco-darwin-arm64`,
  ]);
  const parsed = parseFeed(text);
  assertEquals(
    new Set(parsed.files.map((f) => `${f.version} ${f.platform}`)),
    new Set(FEED.files.map((f) => `${f.version} ${f.platform}`)),
  );
  const opened = openFeed(signFeed(FEED, RELEASE_SIGNER), RELEASE_VERIFIER_KEY);
  assertEquals(opened.time, FEED.time);
  assertEquals(filesFor(opened, "linux-amd64").map((f) => f.version), ["v0.2.0", "v0.1.0"]);
  assertEquals(newestVersion(opened), "v0.2.0");
});

Deno.test("relative file URLs are resolved against the feed's URL", () => {
  const feed = parseFeed(
    `ysco releases\n2026-11-25T12:00:00Z\nv0.2.0 linux-amd64 ${SHA} 5 v0.2.0/ysco-linux-amd64\n`,
    "https://r.example/ysco/feed",
  );
  assertEquals(feed.files[0]?.url, "https://r.example/ysco/v0.2.0/ysco-linux-amd64");
});

Deno.test("a feed signed by another key, or altered, does not open", () => {
  assertThrows(() => openFeed(signFeed(FEED, FORGER), RELEASE_VERIFIER_KEY), /signature/i);
  const signed = new TextDecoder().decode(signFeed(FEED, RELEASE_SIGNER)).replace(
    "v0.1.0 linux-amd64",
    "v0.1.9 linux-amd64",
  );
  assertThrows(
    () => openFeed(new TextEncoder().encode(signed), RELEASE_VERIFIER_KEY),
    /signature/i,
  );
});

Deno.test("parseFeed() names the line of a malformed feed", () => {
  const rows: Array<[string, RegExp]> = [
    // [text, error]
    ["ysco release\n", /line 1: want "ysco releases"/],
    ["ysco releases\nyesterday\n", /line 2: bad time "yesterday"/],
    [
      `ysco releases\n2026-11-25T12:00:00Z\n0.2.0 linux-amd64 ${SHA} 5 u\n`,
      /line 3: bad version "0\.2\.0"/,
    ],
    [
      `ysco releases\n2026-11-25T12:00:00Z\nv0.2.0 linux ${SHA} 5 u\n`,
      /line 3: bad platform "linux"/,
    ],
    [`ysco releases\n2026-11-25T12:00:00Z\nv0.2.0 linux-amd64 abc 5 u\n`, /line 3: bad SHA-256/],
    [
      `ysco releases\n2026-11-25T12:00:00Z\nv0.2.0 linux-amd64 ${SHA} 0 u\n`,
      /line 3: bad size "0"/,
    ],
    [
      `ysco releases\n2026-11-25T12:00:00Z\nv0.2.0 linux-amd64 ${SHA} 5\n`,
      /line 3: want VERSION PLATFORM SHA256 SIZE URL/,
    ],
  ];
  for (const [text, want] of rows) assertThrows(() => parseFeed(text), want, text);
});

Deno.test("staleFeedProblem() refuses feeds older than one seen, by time or by newest release", () => {
  const seen = feedMark(FEED);
  assertEquals(seen, { time: FEED.time, newest: "v0.2.0" });
  const rows: Array<[Feed, string | undefined]> = [
    // [feed, problem]
    [FEED, undefined], // the same feed again
    [{ ...FEED, time: "2026-11-26T00:00:00.000Z" }, undefined], // newer
    [
      { ...FEED, time: "2026-11-24T00:00:00.000Z" },
      "the feed was made at 2026-11-24T00:00:00.000Z, before the feed seen earlier (2026-11-25T12:00:00.000Z)",
    ],
    [
      { time: "2026-11-26T00:00:00.000Z", files: FEED.files.filter((f) => f.version === "v0.1.0") },
      "the feed's newest release v0.1.0 is older than v0.2.0, seen earlier",
    ],
  ];
  for (const [feed, problem] of rows) assertEquals(staleFeedProblem(feed, seen), problem);
  assertEquals(staleFeedProblem(FEED, undefined), undefined); // the first feed is trusted on its signature
});
