/**
 * `ysco release-sign`: makes ysco's signed release feed from built files (see
 * src/self/feed.ts for the format), adding a version to an earlier feed; and
 * `ysco release-sign -genkey NAME` makes a signer key and its verifier key.
 *
 * @module
 */

import { basename } from "node:path";
import { errorMessage, UsageError } from "../errors.ts";
import { type Feed, formatFeed, openFeed, type ReleaseFile, signFeed } from "../self/feed.ts";
import { sha256 } from "../verify/hash.ts";
import { formatSignerKey, parseSignerKey, signerFromSeed, verifierKeyOf } from "../verify/note.ts";
import { isValidSemver } from "../version/semver.ts";
import type { Command } from "./command.ts";
import { formatFlags, parseFlags } from "./flags.ts";

const FLAGS = {
  key: {
    type: "string",
    value: "FILE",
    help: "file with the signer key (PRIVATE+KEY+NAME+HASH+KEY)",
  },
  version: { type: "string", value: "VERSION", help: "version of the files, e.g. v0.2.0" },
  url: {
    type: "string",
    value: "URL",
    help:
      "base URL of the files; a file's URL is BASE/VERSION/NAME (default: relative to the feed)",
  },
  feed: {
    type: "string",
    value: "FILE",
    help: "an earlier feed to add the release to (its releases are kept)",
  },
  o: { type: "string", value: "FILE", help: "write the feed here instead of standard output" },
  genkey: {
    type: "string",
    value: "NAME",
    help: "instead: make a signer key named NAME and print both keys",
  },
} as const;

/** The release-sign command. */
export const releaseSignCommand: Command = {
  name: "release-sign",
  usage:
    `usage: ysco release-sign -key FILE -version VERSION [-url BASE] [-feed OLD] [-o FEED] FILE...
       ysco release-sign -genkey NAME

Makes ysco's signed release feed: for each FILE, named ysco-GOOS-GOARCH as
\`deno task compile\` names them in dist/, a line with its platform, SHA-256, size and
URL, signed with the signer key. With -feed, the releases of an earlier feed (verified
with the same key) are kept, so that ysco installations on older versions still find
theirs. Publish the feed at [self] feed_url and give the verifier key as [self]
verifier_key. -genkey makes a new key pair (keep the signer key secret).

flags:
${formatFlags(FLAGS)}`,
  async run(args, io) {
    const { flags, rest } = parseFlags(args, FLAGS, { stopAtOperand: false });
    if (flags.genkey !== "") {
      const signer = signerFromSeed(flags.genkey, crypto.getRandomValues(new Uint8Array(32)));
      io.out(
        `signer key (secret): ${formatSignerKey(signer)}\nverifier key: ${verifierKeyOf(signer)}\n`,
      );
      return 0;
    }
    if (flags.key === "") throw new UsageError("missing -key");
    if (!isValidSemver(flags.version)) {
      throw new UsageError(`-version "${flags.version}" is not a version like v0.2.0`);
    }
    if (rest.length === 0) throw new UsageError("missing FILE");
    let signer;
    try {
      signer = parseSignerKey((await Deno.readTextFile(flags.key)).trim());
    } catch (err) {
      io.err(`ysco release-sign: ${flags.key}: ${errorMessage(err)}\n`);
      return 1;
    }
    let files: ReleaseFile[] = [];
    if (flags.feed !== "") {
      try {
        files = openFeed(await Deno.readFile(flags.feed), verifierKeyOf(signer)).files;
      } catch (err) {
        io.err(`ysco release-sign: ${flags.feed}: ${errorMessage(err)}\n`);
        return 1;
      }
    }
    for (const file of rest) {
      const platform = /^ysco-([a-z0-9]+-[a-z0-9]+)(\.exe)?$/.exec(basename(file))?.[1];
      if (platform === undefined) {
        throw new UsageError(`"${basename(file)}" is not named ysco-GOOS-GOARCH`);
      }
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(file);
      } catch (err) {
        io.err(`ysco release-sign: ${file}: ${errorMessage(err)}\n`);
        return 1;
      }
      const path = `${flags.version}/${basename(file)}`;
      const url = flags.url === "" ? path : `${flags.url.replace(/\/+$/, "")}/${path}`;
      files = files.filter((f) => !(f.version === flags.version && f.platform === platform));
      files.push({
        version: flags.version,
        platform,
        sha256: sha256(bytes).toHex(),
        size: bytes.length,
        url,
      });
    }
    const feed: Feed = { time: new Date().toISOString().replace(/\.\d+Z$/, "Z"), files };
    const signed = signFeed(feed, signer);
    if (flags.o === "") io.out(new TextDecoder().decode(signed));
    else await Deno.writeFile(flags.o, signed);
    if (flags.o !== "") io.err(`wrote ${flags.o}: ${files.length} files\n${formatFeed(feed)}`);
    return 0;
  },
};
