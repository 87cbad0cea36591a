/**
 * Faults at the edges of an update, end to end: a stop during a download that never
 * ends, a full state file system, no inodes left for the switch. Each leaves the
 * service running (or stopped on request), nothing half-written, and says why.
 */

import { join } from "node:path";
import { readState } from "../../src/state/state.ts";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { run } from "../../world/go.ts";
import { poll } from "../../world/process.ts";
import { GO, startWorld, type World } from "../../world/world.ts";
import { noTempFiles, servicePids, tempFiles } from "./_crash.ts";

const ROOT = Deno.uid() === 0;

/** Fills the file system of dir: one file takes the space, or empty files the inodes. */
async function fill(dir: string, what: "space" | "inodes"): Promise<void> {
  if (what === "space") {
    const file = await Deno.open(join(dir, "fill"), { write: true, create: true });
    const chunk = new Uint8Array(4096);
    try {
      for (;;) await file.write(chunk);
    } catch (err) {
      assert(/No space/.test(String(err)), String(err));
    } finally {
      file.close();
    }
    return;
  }
  await Deno.mkdir(join(dir, "fill"));
  try {
    for (let i = 0;; i++) await Deno.writeFile(join(dir, "fill", String(i)), new Uint8Array());
  } catch (err) {
    assert(/No space/.test(String(err)), String(err));
  }
}

/** The download's temporary files (`ysco.NAME.RANDOM`) in the service's directory. */
async function partialDownloads(world: World): Promise<string[]> {
  return (await tempFiles(world)).filter((f) => /\/ysco\./.test(f));
}

/** Asks for v1.0.1 through the API and returns the answer. */
async function postUpdate(world: World): Promise<{ status: number; text: string }> {
  const res = await world.admin("/update", {
    method: "POST",
    body: new URLSearchParams({ which: "svc", version: "v1.0.1", goversion: GO }),
  });
  return { status: res.status, text: await res.text() };
}

Deno.test("SIGTERM during a download that never ends stops ysco at once: nothing installed, nothing left", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  world.gobuild.faults.download = "stall";
  await world.configure();
  const ysco = await world.startYsco();
  await ysco.waitFor(/msg="updating service"/, 60_000);
  await poll(
    "the partial download",
    async () => (await partialDownloads(world)).length > 0 || undefined,
  );
  const t0 = performance.now();
  ysco.kill("SIGTERM");
  const status = await ysco.status;
  const ms = performance.now() - t0;
  // The download's own limit is 10 minutes: ending now means it was aborted.
  assert(ms < 30_000, `ysco took ${Math.round(ms)} ms to stop`);
  assertEquals(status.code, 0);
  await poll("the service stopped", () => servicePids(world.dir).length === 0 || undefined);
  await noTempFiles(world);
  assertEquals(await Deno.readLink(join(world.dir, "testsvc")), `testsvc-v1.0.0-${GO}`);
  const state = await readState(join(world.dir, "ys"));
  assertEquals(state.install, undefined);
  assertEquals(state.history.map((h) => [h.outcome, h.reason]), [[
    "cancelled",
    "ysco received SIGTERM",
  ]]);
  // Scheduled still: the next start installs it.
  assertEquals(state.scheduled.map((u) => u.version), ["v1.0.1"]);
});

Deno.test("kill -9 during a download: the restarted ysco removes the partial file and ends the update", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  world.gobuild.faults.download = "stall";
  await world.configure();
  const first = await world.startYsco();
  await poll(
    "the partial download",
    async () => (await partialDownloads(world)).length > 0 || undefined,
  );
  const partial = await partialDownloads(world);
  const pids = servicePids(world.dir);
  first.kill("SIGKILL");
  await first.status;
  for (const pid of pids) Deno.kill(-pid, "SIGKILL");
  delete world.gobuild.faults.download;
  const second = await world.startYsco();
  await second.waitFor(/msg="removed temporary files left by a crash"/);
  await world.waitForVersion("v1.0.1");
  const state = await poll("the update done", async () => {
    const s = await readState(join(world.dir, "ys"));
    return s.history.length === 2 ? s : undefined;
  }, 60_000);
  assertEquals(state.history.map((h) => [h.outcome, h.reason]), [
    ["cancelled", "ysco ended during the download (a crash, a kill or a reboot)"],
    ["installed", undefined],
  ]);
  assertEquals(partial.length, 1);
  await noTempFiles(world);
});

Deno.test({
  name: "no space for the state: the update fails with 500 before the service is touched",
  ignore: !ROOT,
  async fn() {
    await using world = await startWorld({ announced: ["v1.0.0"] });
    const ys = join(world.dir, "ys");
    await Deno.mkdir(ys);
    await run("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", ys]);
    await using _unmount = {
      [Symbol.asyncDispose]: () => run("umount", ["-l", ys]).then(() => {}),
    };
    await world.configure();
    const ysco = await world.startYsco();
    const pid = servicePids(world.dir);
    await fill(ys, "space");
    const answer = await postUpdate(world);
    assertEquals(answer.status, 500, answer.text);
    assertMatch(answer.text, /failed: Cannot write state file .*state\.json.*No space left/);
    // The service was never stopped, nothing of the update is left.
    assertEquals(servicePids(world.dir), pid);
    assertEquals(await Deno.readLink(join(world.dir, "testsvc")), `testsvc-v1.0.0-${GO}`);
    await noTempFiles(world);
    assert(
      !(await Array.fromAsync(Deno.readDir(world.dir))).some((e) => e.name.includes("v1.0.1")),
    );
    assertMatch(
      await (await world.admin("/metrics")).text(),
      /^ysco_state_write_errors_total [1-9]/m,
    );
    await ysco.waitFor(/level=ERROR msg="update failed" .*Cannot write state file/);
  },
});

Deno.test({
  name: "no inode for the new symlink: the update fails before the stop and its binary is removed",
  ignore: !ROOT,
  async fn() {
    await using world = await startWorld({ announced: ["v1.0.0"], tmpfs: "size=64m,nr_inodes=64" });
    const ys = join(world.dir, "ys");
    await Deno.mkdir(ys);
    // The state on a file system of its own: only the service's directory is full.
    await run("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", ys]);
    await using _unmount = {
      [Symbol.asyncDispose]: () => run("umount", ["-l", ys]).then(() => {}),
    };
    await world.configure();
    const ysco = await world.startYsco();
    const pid = servicePids(world.dir);
    await fill(world.dir, "inodes");
    // One inode left: the download takes it, the new symlink finds none.
    await Deno.remove(join(world.dir, "fill", "0"));
    const answer = await postUpdate(world);
    assertEquals(answer.status, 500, answer.text);
    assertMatch(answer.text, /failed: installing: Cannot point symlink .*No space left/);
    assertEquals(servicePids(world.dir), pid);
    assertEquals(await Deno.readLink(join(world.dir, "testsvc")), `testsvc-v1.0.0-${GO}`);
    await noTempFiles(world);
    assert(
      !(await Array.fromAsync(Deno.readDir(world.dir))).some((e) => e.name.includes("v1.0.1")),
    );
    const state = await readState(ys);
    assertEquals([state.install, state.history.map((h) => h.outcome)], [undefined, ["failed"]]);
    await ysco.waitFor(/msg="removed the binary of an update that did not install"/);
  },
});
