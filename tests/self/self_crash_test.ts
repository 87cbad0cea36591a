/**
 * The self-update's crash matrix: ysco stops at the fail points around its exec (the
 * old process after it wrote "exec", the new one after it wrote "up" and before it
 * listens for signals), is killed there or sent SIGTERM, and is started again as
 * systemd would (through the `ysco` symlink).
 */

import { join } from "node:path";
import { readState, type State } from "../../src/state/state.ts";
import { assertEquals, assertMatch } from "../_assert.ts";
import { poll, type Proc } from "../../world/process.ts";
import { startWorld, type World } from "../../world/world.ts";
import { servicePids } from "../update/_crash.ts";
import { deploy, NEW, OLD } from "./_deploy.ts";

/** Starts ysco through the deployment's `ysco` symlink. */
function start(world: World, env: Record<string, string> = {}): Promise<Proc> {
  return world.startYsco(env, undefined, `${world.dir}/ysco`);
}

/** The state once no self-update is pending and the history has n entries. */
function settled(world: World, n: number): Promise<State> {
  return poll(`${n} self-updates recorded`, async () => {
    const s = await readState(join(world.dir, "ys")).catch(() => undefined);
    return s !== undefined && s.selfUpdate === undefined && s.history.length >= n ? s : undefined;
  }, 120_000);
}

async function killAll(world: World, ysco: Proc): Promise<void> {
  const pids = servicePids(world.dir).filter((p) => p !== ysco.pid);
  ysco.kill("SIGKILL");
  await ysco.status;
  for (const pid of pids) {
    try {
      Deno.kill(-pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await poll(
    "the service gone",
    () => servicePids(world.dir).filter((p) => p !== ysco.pid).length === 0 || undefined,
  );
}

Deno.test("SIGTERM before the exec cancels the self-update; the next start does it", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await using _feed = await deploy(world);
  const first = await start(world, { YSCO_TEST_FAILPOINT: "self-exec" });
  await first.waitFor(/msg="failpoint reached" .*name=self-exec/, 120_000);
  first.kill("SIGTERM");
  await first.status;
  const cancelled = await settled(world, 1);
  assertEquals(cancelled.history.map((h) => [h.outcome, h.reason]), [[
    "cancelled",
    "ysco received SIGTERM",
  ]]);
  assertEquals(cancelled.pauseReason, "");
  assertEquals(await Deno.readLink(`${world.dir}/ysco`), `ysco-${OLD}`);
  const second = await start(world);
  await second.waitFor(/msg="ysco back after exec"/, 120_000);
  const done = await settled(world, 2);
  assertEquals(done.history.map((h) => h.outcome), ["cancelled", "installed"]);
  assertEquals(await Deno.readLink(`${world.dir}/ysco`), `ysco-${NEW}`);
});

Deno.test("kill -9 right before the exec reads as a release that did not come up: rolled back, paused", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await using _feed = await deploy(world);
  const first = await start(world, { YSCO_TEST_FAILPOINT: "self-exec" });
  await first.waitFor(/msg="failpoint reached" .*name=self-exec/, 120_000);
  await killAll(world, first);
  const second = await start(world);
  await second.waitFor(/msg="self-update failed: the new version did not come up"/);
  const s = await settled(world, 1);
  assertEquals(s.history.map((h) => h.outcome), ["rolled back"]);
  assertMatch(s.pauseReason, new RegExp(`ysco ${NEW} did not come up after the self-update`));
  assertEquals(await Deno.readLink(`${world.dir}/ysco`), `ysco-${OLD}`);
  assertEquals(servicePids(world.dir).filter((p) => p !== second.pid).length, 1);
});

Deno.test("SIGTERM while the new ysco starts is not lost: it confirms the update and stops with the service", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await using _feed = await deploy(world);
  const ysco = await start(world, { YSCO_TEST_FAILPOINT: "self-boot" });
  await ysco.waitFor(/msg="failpoint reached" .*name=self-boot/, 120_000);
  const service = servicePids(world.dir).filter((p) => p !== ysco.pid);
  // Before the new process listens for signals: without the blocked mask carried
  // across the exec, this SIGTERM would kill it and leave the update unconfirmed.
  ysco.kill("SIGTERM");
  ysco.kill("SIGUSR2"); // leaves the fail point
  const status = await ysco.status;
  assertEquals(status.code, 0);
  await poll(
    "the service stopped",
    () => service.every((p) => !servicePids(world.dir).includes(p)) || undefined,
  );
  const s = await settled(world, 1);
  assertEquals(s.history.map((h) => [h.outcome, h.to.version]), [["installed", NEW]]);
  assertEquals(s.pauseReason, "");
  assertEquals(await Deno.readLink(`${world.dir}/ysco`), `ysco-${NEW}`);
});

Deno.test("kill -9 of the new ysco before it confirmed: cancelled, not paused; the next start does it again", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await using _feed = await deploy(world);
  const first = await start(world, { YSCO_TEST_FAILPOINT: "self-boot" });
  await first.waitFor(/msg="failpoint reached" .*name=self-boot/, 120_000);
  await killAll(world, first);
  const second = await start(world);
  await second.waitFor(
    /msg="self-update cancelled: the new version was stopped before it confirmed"/,
  );
  await second.waitFor(/msg="ysco back after exec"/, 120_000);
  const s = await settled(world, 2);
  assertEquals(s.history.map((h) => h.outcome), ["cancelled", "installed"]);
  assertEquals(s.pauseReason, "");
  assertEquals(await Deno.readLink(`${world.dir}/ysco`), `ysco-${NEW}`);
});
