import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { emptyState, writeState } from "../../src/state/state.ts";
import { httpText, poll, procStatus } from "../../world/process.ts";
import { FORGER, releaseBinary, releaseFile } from "../_releases.ts";
import { deploy, NEW, OLD } from "./_deploy.ts";
import { GO, readWorldState, startWorld, type World } from "../../world/world.ts";

/** Hits the service until stop resolves; returns the failures and the pids seen. */
async function watchService(
  world: World,
  stop: Promise<unknown>,
): Promise<{ failures: number; requests: number }> {
  let done = false;
  stop.then(() => done = true, () => done = true);
  let failures = 0;
  let requests = 0;
  while (!done) {
    requests++;
    if ((await httpText(`http://127.0.0.1:${world.servicePort}/`)) === undefined) failures++;
    await new Promise((r) => setTimeout(r, 10));
  }
  return { failures, requests };
}

Deno.test("ysco updates itself on schedule without interrupting the service", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await using _feed = await deploy(world);
  const ysco = await world.startYsco({}, undefined, `${world.dir}/ysco`);
  await ysco.waitFor(
    new RegExp(`msg="ysco starting" ysco="" version=${OLD.replaceAll(".", "\\.")}`),
  );
  const service = (await world.status()).Pid as number;
  const load = watchService(world, ysco.waitFor(/msg="update installed" .*which=self/, 60_000));
  await ysco.waitFor(/msg="found new version of ysco" ysco="" newversion=v0\.9\.1/);
  await ysco.waitFor(
    /msg="replacing ysco with the new version, the service keeps running"/,
    60_000,
  );
  await ysco.waitFor(
    new RegExp(`msg="ysco back after exec" ysco="" which=self prev=${OLD} new=${NEW}`),
    60_000,
  );
  const { failures, requests } = await load;
  assertEquals(failures, 0, `${failures} of ${requests} requests failed`);
  // Same ysco process, same service process, still its child.
  assertEquals(procStatus(service).PPid, String(ysco.pid));
  const json = await world.status();
  assertEquals([json.SelfVersion, json.Pid], [NEW, service]);
  assertEquals(await Deno.readLink(`${world.dir}/ysco`), `ysco-${NEW}`);
  // The confirmation is written after its log line: wait for the write.
  const state = await poll("the self-update recorded", async () => {
    const s = await readWorldState(world);
    return (s.history as unknown[]).length > 0 ? s : undefined;
  }, 60_000);
  assertEquals(state.previousBinarySelf, `${world.dir}/ysco-${OLD}`);
  assertEquals(state.selfUpdate, undefined);
  const history = state.history as Array<
    { which: string; outcome: string; to: { version: string } }
  >;
  assertEquals(history.map((h) => [h.which, h.outcome, h.to.version]), [[
    "self",
    "installed",
    NEW,
  ]]);
});

Deno.test("a self-update from the admin form is answered by the new process; service updates and rollbacks still work", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await using _feed = await deploy(world, '[policy]\nself = "manual"\n');
  const ysco = await world.startYsco(
    { TESTSVC_ONLY_VERSION: "v1.1.0", TESTSVC_EXIT_CODE: "3" },
    undefined,
    `${world.dir}/ysco`,
  );
  await ysco.waitFor(/msg="checked for updates"/);
  const service = (await world.status()).Pid as number;
  const res = await world.postForm({ command: "update", which: "self", version: NEW });
  // Only the new process writes this answer, after it took over.
  assertEquals([res.status, res.headers.get("location"), await res.text()], [
    303,
    "/",
    `updated self from ${OLD} to ${NEW}\n`,
  ]);
  await ysco.waitFor(/msg="ysco back after exec"/);
  assertEquals((await world.status()).Pid, service);

  // The new ysco stops the adopted service for an update and starts the new version.
  const up = await world.admin(`/update?which=svc&version=v1.0.1&goversion=${GO}`, {
    method: "POST",
  });
  assertEquals([up.status, await up.text()], [200, "ok\n"]);
  assertEquals(await world.serviceVersion(), `example.com/testsvc v1.0.1 ${GO}\n`);
  // And rolls back a failing one.
  const bad = await world.admin(`/update?which=svc&version=v1.1.0&goversion=${GO}`, {
    method: "POST",
  });
  assertEquals(bad.status, 500);
  assertMatch(await bad.text(), /updating: rolled back: exited with status 3/);
  await world.waitForVersion("v1.0.1");
});

Deno.test("a forged or replayed release feed is refused", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await using feed = await deploy(world, '[policy]\nself = "manual"\n');
  const ysco = await world.startYsco({}, undefined, `${world.dir}/ysco`);
  await ysco.waitFor(/msg="checked for updates"/);
  assertEquals((await world.status()).SelfVersions, [NEW]);
  const published = feed.feed;

  // Signed by another key with the same name.
  const newBinary = await releaseBinary(NEW);
  feed.publish({
    time: "2026-11-21T10:00:00Z",
    files: [await releaseFile("v0.9.2", newBinary, "x")],
  }, FORGER);
  assertEquals((await world.postForm({ command: "check" })).status, 303);
  assertMatch(
    String((await world.status()).SelfVersionsError),
    /Cannot use release feed .*: .*signature/i,
  );

  // An older feed than the one seen: a replay.
  feed.publish({ time: "2026-11-19T10:00:00Z", files: [] });
  await world.postForm({ command: "check" });
  assertMatch(
    String((await world.status()).SelfVersionsError),
    /refused as a replay: the feed was made at 2026-11-19T10:00:00\.000Z, before the feed seen earlier/,
  );
  feed.feed = published;
  await world.postForm({ command: "check" });
  assertEquals((await world.status()).SelfVersionsError, "");
  // A feed offering only an older newest release than seen: a replay as well.
  const oldBinary = await releaseBinary(OLD);
  feed.publish({ time: "2026-11-22T10:00:00Z", files: [await releaseFile(OLD, oldBinary, "x")] });
  await world.postForm({ command: "check" });
  assertMatch(
    String((await world.status()).SelfVersionsError),
    /newest release v0\.9\.0 is older than v0\.9\.1/,
  );
  const res = await world.postForm({ command: "update", which: "self", version: NEW });
  assertEquals(res.status, 500);
  assert((await res.text()).includes("refused as a replay"));
  assertEquals(await Deno.readLink(`${world.dir}/ysco`), `ysco-${OLD}`);
});

Deno.test("when the new ysco does not come up, the next start runs the previous one and records it", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await using _feed = await deploy(world, '[policy]\nself = "manual"\n');
  // Simulate a new version that was exec'ed but died before confirming: a pending
  // marker in the state, and the ysco symlink still on the old version.
  await writeState(`${world.dir}/ys`, {
    ...emptyState(),
    selfUpdate: {
      from: { version: OLD, path: `${world.dir}/ysco-${OLD}` },
      to: { version: NEW, path: `${world.dir}/ysco-${NEW}` },
      time: "2026-11-25T10:00:00.000Z",
      manual: false,
    },
  });
  const ysco = await world.startYsco({}, undefined, `${world.dir}/ysco`);
  await ysco.waitFor(
    /level=ERROR msg="self-update failed: the new version did not come up" ysco="" version=v0\.9\.1/,
  );
  const after = await readWorldState(world);
  assertEquals(after.selfUpdate, undefined);
  assertMatch(
    String(after.pauseReason),
    /ysco v0\.9\.1 did not come up after the self-update; running v0\.9\.0 again/,
  );
  await poll("status", async () => (await world.status()).SelfVersion === OLD ? true : undefined);
});
