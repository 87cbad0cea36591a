/**
 * ysco's release feed: a signed note (the note format and Ed25519 signatures of the
 * gobuild transparency log) listing releases of ysco, per platform with the
 * download URL, SHA-256 and size. The text of the note is:
 *
 *     ysco releases
 *     2026-11-25T12:00:00Z
 *     v0.2.0 linux-amd64 <sha256 hex> <size> <url>
 *     v0.2.0 darwin-arm64 <sha256 hex> <size> <url>
 *     v0.1.0 linux-amd64 ...
 *
 * The second line is when the feed was made: a feed older than one seen before, or
 * whose newest release is older, is refused (a replayed feed cannot roll ysco back).
 * URLs may be relative to the feed's URL.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { openNote, type SignerKey, signNote } from "../verify/note.ts";
import { parseVerifierKey } from "../verify/verifier_key.ts";
import { compareSemver, isValidSemver } from "../version/semver.ts";

const HEADER = "ysco releases";

/** One file of a release. */
export interface ReleaseFile {
  version: string;
  /** "linux-amd64", "darwin-arm64", ... */
  platform: string;
  /** SHA-256 of the file, lowercase hex. */
  sha256: string;
  size: number;
  /** Absolute URL (relative ones are resolved against the feed's URL when parsed). */
  url: string;
}

/** A release feed. */
export interface Feed {
  /** When the feed was made (ISO 8601). */
  time: string;
  files: ReleaseFile[];
}

/** What the state remembers of the newest feed seen, against replays. */
export interface FeedMark {
  time: string;
  /** The newest version in it. */
  newest: string;
}

/** The feed's text (to be signed). */
export function formatFeed(feed: Feed): string {
  const files = [...feed.files].sort((a, b) =>
    compareSemver(b.version, a.version) || (a.platform < b.platform ? -1 : 1)
  );
  return [
    HEADER,
    feed.time,
    ...files.map((f) => `${f.version} ${f.platform} ${f.sha256} ${f.size} ${f.url}`),
  ]
    .join("\n") + "\n";
}

/** Signs a feed: the signed note to publish. */
export function signFeed(feed: Feed, signer: SignerKey): Uint8Array {
  return signNote(formatFeed(feed), [signer]);
}

/**
 * Parses feed text.
 * @param base URL relative file URLs are resolved against (the feed's URL); without
 *   it they are kept as they are
 * @throws SyntaxError naming the line
 */
export function parseFeed(text: string, base?: string): Feed {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const fail = (n: number, reason: string): never => {
    throw new SyntaxError(`Cannot parse release feed: line ${n}: ${reason}`);
  };
  if (lines[0] !== HEADER) fail(1, `want "${HEADER}"`);
  const time = lines[1] ?? "";
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(time) || Number.isNaN(Date.parse(time))) {
    fail(2, `bad time "${time}" (want UTC RFC 3339, like 2026-11-25T12:00:00Z)`);
  }
  const files: ReleaseFile[] = [];
  for (const [i, line] of lines.slice(2).entries()) {
    const n = i + 3;
    const f = line.split(" ");
    if (f.length !== 5) fail(n, "want VERSION PLATFORM SHA256 SIZE URL");
    const [version = "", platform = "", sha256 = "", size = "", url = ""] = f;
    if (!isValidSemver(version)) fail(n, `bad version "${version}"`);
    if (!/^[a-z0-9]+-[a-z0-9]+$/.test(platform)) {
      fail(n, `bad platform "${platform}" (want like linux-amd64)`);
    }
    if (!/^[0-9a-f]{64}$/.test(sha256)) fail(n, "bad SHA-256 (want 64 lowercase hex digits)");
    if (!/^[1-9][0-9]*$/.test(size) || !Number.isSafeInteger(Number(size))) {
      fail(n, `bad size "${size}"`);
    }
    let resolved = url;
    if (base !== undefined) {
      try {
        resolved = new URL(url, base).href;
      } catch {
        fail(n, `bad URL "${url}"`);
      }
    }
    files.push({ version, platform, sha256, size: Number(size), url: resolved });
  }
  return { time: new Date(Date.parse(time)).toISOString(), files };
}

/**
 * Opens a signed feed with the verifier key and parses it.
 * @throws SyntaxError for a malformed note or feed, VerificationError for a bad or missing signature
 */
export function openFeed(signed: Uint8Array, verifierKey: string, base?: string): Feed {
  const note = openNote(signed, parseVerifierKey(verifierKey));
  return parseFeed(note.text, base);
}

/** The newest version a feed lists (for any platform). */
export function newestVersion(feed: Feed): string {
  return feed.files.map((f) => f.version).sort((a, b) => compareSemver(b, a))[0] ?? "";
}

/**
 * Why a feed must be refused as a replay of an older one, or undefined when it is
 * at least as new as the mark of the newest feed seen.
 */
export function staleFeedProblem(feed: Feed, seen: FeedMark | undefined): string | undefined {
  if (seen === undefined) return undefined;
  if (Date.parse(feed.time) < Date.parse(seen.time)) {
    return `the feed was made at ${feed.time}, before the feed seen earlier (${seen.time})`;
  }
  const newest = newestVersion(feed);
  if (seen.newest !== "" && compareSemver(newest, seen.newest) < 0) {
    return `the feed's newest release ${
      newest || "(none)"
    } is older than ${seen.newest}, seen earlier`;
  }
  return undefined;
}

/** The mark to remember of a feed. */
export function feedMark(feed: Feed): FeedMark {
  return { time: feed.time, newest: newestVersion(feed) };
}

/** The release files for one platform, newest first. */
export function filesFor(feed: Feed, platform: string): ReleaseFile[] {
  return feed.files.filter((f) => f.platform === platform).sort((a, b) =>
    compareSemver(b.version, a.version)
  );
}
