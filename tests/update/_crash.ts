/**
 * The crash matrix's scenario, end to end with real processes: ysco stops at a fail
 * point of the update transaction (YSCO_TEST_FAILPOINT), is killed there (kill -9 of
 * ysco, with or without the service's process group, or SIGTERM), and is started
 * again as systemd would; then the outcome is checked: exactly one service process,
 * the service path on a verified binary, a failing release rolled back and paused, a
 * good one confirmed and in the history, no temporary file, a readable state.
 *
 * @module
 */

import { basename, join } from "node:path";
import { readState, type State } from "../../src/state/state.ts";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { isAlive, poll } from "../../world/process.ts";
import { GO, startWorld, type World } from "../../world/world.ts";

/** How ysco is stopped at the fail point. */
export type Stop = "kill -9 ysco and the service" | "kill -9 ysco only" | "SIGTERM";

/** A release that works, or one that exits with status 3 at once. */
export type Release = "good" | "bad";

/** The environment that makes v1.0.1 fail. */
const BAD = { TESTSVC_ONLY_VERSION: "v1.0.1", TESTSVC_EXIT_CODE: "3" };

/** Pids of live processes running a binary in dir (the service's versions). */
export function servicePids(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const exe = Deno.readLinkSync(`/proc/${entry.name}/exe`);
      if (exe.startsWith(`${dir}/`) && isAlive(Number(entry.name))) pids.push(Number(entry.name));
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return pids;
}

/** Temporary files of ysco in the world: downloads, atomic writes, new symlinks. */
export async function tempFiles(world: World): Promise<string[]> {
  const names: string[] = [];
  for (const d of [world.dir, join(world.dir, "ys")]) {
    for await (const e of Deno.readDir(d)) {
      if (/^ysco\..*\.[0-9a-f]{12}$|\.tmp$/.test(e.name)) names.push(join(basename(d), e.name));
    }
  }
  return names;
}

/**
 * Runs an update of v1.0.0 to v1.0.1, stops ysco at the fail point with stop, starts
 * it again, and checks the outcome once ysco has settled, and the history's outcomes.
 */
export async function crashAt(
  point: string,
  stop: Stop,
  release: Release,
  history: string[],
): Promise<void> {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure();
  const env = release === "bad" ? BAD : {};
  const first = await world.startYsco({ ...env, YSCO_TEST_FAILPOINT: point });
  await first.waitFor(new RegExp(`msg="failpoint reached" .*name=${point}\\b`), 120_000);
  const before = servicePids(world.dir);
  if (stop === "SIGTERM") {
    first.kill("SIGTERM");
    await first.status;
    // Stop means stop: nothing of the service is left running.
    await poll("the service stopped", () => servicePids(world.dir).length === 0 || undefined);
  } else {
    first.kill("SIGKILL");
    await first.status; // not its output: the service may hold the pipes
    if (stop === "kill -9 ysco and the service") {
      for (const pid of before) {
        try {
          Deno.kill(-pid, "SIGKILL");
        } catch {
          // gone already
        }
      }
      await poll("the service gone", () => servicePids(world.dir).length === 0 || undefined);
    } else {
      assert(before.length > 0 || release === "bad", "a service process survives ysco");
    }
  }

  // As systemd would: the same command again.
  const second = await world.startYsco(env);
  const state = await poll("the update ended", async () => {
    const s = await readState(join(world.dir, "ys")).catch(() => undefined);
    const last = s?.history.at(-1)?.outcome;
    return s !== undefined && s.install === undefined &&
        (last === "installed" || last === "rolled back")
      ? s
      : undefined;
  }, 120_000);
  const want = release === "good" ? "v1.0.1" : "v1.0.0";
  await world.waitForVersion(want);
  await checkSettled(world, state, release, second.pid);
  assertEquals(state.history.map((h) => h.outcome), history);
  if (stop === "kill -9 ysco only" && release === "good") {
    await second.waitFor(/msg="a service process of an earlier ysco still runs, stopping it"/);
  }
}

async function checkSettled(
  world: World,
  state: State,
  release: Release,
  ysco: number,
): Promise<void> {
  const want = release === "good" ? "v1.0.1" : "v1.0.0";
  // Exactly one service process, the restarted ysco's child.
  const pids = await poll("one service process", () => {
    const p = servicePids(world.dir);
    return p.length === 1 ? p : undefined;
  }, 60_000);
  const ppid = Deno.readTextFileSync(`/proc/${pids[0]}/stat`).split(") ")[1]?.split(" ")[1];
  assertEquals(ppid, String(ysco));
  assertEquals(await Deno.readLink(join(world.dir, "testsvc")), `testsvc-${want}-${GO}`);
  const last = state.history.at(-1);
  if (release === "good") {
    assertEquals([last?.outcome, last?.to.version], ["installed", "v1.0.1"]);
    assertEquals(state.pauseReason, "");
  } else {
    assertEquals([last?.outcome, last?.to.version], ["rolled back", "v1.0.1"]);
    assertMatch(
      state.pauseReason,
      /v1\.0\.1 go1\.23\.5 failed after an update: exited with status 3/,
    );
    // The failed release is not scheduled again.
    assertEquals(state.scheduled, []);
  }
  await noTempFiles(world);
}

/**
 * Asserts that no temporary file of ysco is left; a state write of a running ysco
 * may be under way, so its temporary file is given time to go.
 */
export async function noTempFiles(world: World): Promise<void> {
  await poll("no temporary files", async () => (await tempFiles(world)).length === 0 || undefined)
    .catch(async () => assertEquals(await tempFiles(world), []));
}
