/**
 * A deployment of ysco for self-update tests: ysco OLD installed as
 * `ysco -> ysco-v0.9.0` next to the test service, and a feed offering NEW.
 *
 * @module
 */

import { RELEASE_VERIFIER_KEY, releaseBinary, releaseFile, startFeedServer } from "../_releases.ts";
import type { FeedServer } from "../_releases.ts";
import type { World } from "../../world/world.ts";

/** The version deployed. */
export const OLD = "v0.9.0";
/** The version the feed offers. */
export const NEW = "v0.9.1";

/** A deployment with ysco OLD installed as `ysco -> ysco-v0.9.0`, and a feed offering NEW. */
export async function deploy(world: World, extra = ""): Promise<FeedServer> {
  const feed = startFeedServer();
  const oldBinary = await releaseBinary(OLD);
  const newBinary = await releaseBinary(NEW);
  await Deno.copyFile(oldBinary, `${world.dir}/ysco-${OLD}`);
  await Deno.chmod(`${world.dir}/ysco-${OLD}`, 0o755);
  await Deno.symlink(`ysco-${OLD}`, `${world.dir}/ysco`);
  feed.files.set(`/${NEW}/ysco-linux-amd64`, await Deno.readFile(newBinary));
  feed.publish({
    time: "2026-11-20T10:00:00Z",
    files: [await releaseFile(NEW, newBinary, `${NEW}/ysco-linux-amd64`)],
  });
  await world.configure(
    `[self]\nfeed_url = "${feed.url}"\nverifier_key = "${RELEASE_VERIFIER_KEY}"\n${extra}`,
  );
  return feed;
}
