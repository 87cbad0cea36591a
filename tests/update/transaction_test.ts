/**
 * The update transaction in process: the real updater, state file, symlink and Go
 * binaries, with a fake clock, fake service processes and a fake fetcher (see
 * _fakes.ts), so that every phase and fault can be reached exactly.
 */

import { join } from "node:path";
import { readBuildInfo } from "../../src/buildinfo/mod.ts";
import { createHash } from "node:crypto";
import { emptyState, type InstallJournal, readState, type State } from "../../src/state/state.ts";
import { recoverInstall } from "../../src/update/recovery.ts";
import { Updater } from "../../src/update/updater.ts";
import { createYscoMetrics } from "../../src/metrics/ysco_metrics.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { installService } from "../../world/service.ts";
import { tempDir } from "../../world/util.ts";
import { goBuild } from "../../world/go.ts";
import {
  FakeClock,
  FakeFetcher,
  FakeSupervisor,
  fixedDiscovery,
  memoryLogger,
  recordingWriter,
  settle,
  testConfig,
} from "./_fakes.ts";

const GO = "go1.23.5";
const V100 = `testsvc-v1.0.0-${GO}`;
const V101 = `testsvc-v1.0.1-${GO}`;

interface SetupOptions {
  state?: State;
  config?: string;
  failWrite?: (s: State) => boolean;
  /** Build the recovery plan from the state, as `ysco run` does. */
  recover?: boolean;
  /** Before the updater starts (e.g. to damage a binary). */
  before?: (dir: string) => Promise<void>;
}

async function setup(o: SetupOptions = {}) {
  const tmp = await tempDir("ysco-txn-");
  const dir = tmp.path;
  await installService(dir, { version: "v1.0.0" });
  const cmd = join(dir, "testsvc");
  const ys = join(dir, "ys");
  await Deno.mkdir(ys);
  await o.before?.(dir);
  const clock = new FakeClock();
  const supervisor = new FakeSupervisor(cmd, clock);
  const fetcher = new FakeFetcher();
  const writer = recordingWriter(o.failWrite);
  const log = memoryLogger();
  const metrics = createYscoMetrics();
  const state = o.state ?? emptyState();
  const recovery = o.recover ? await recoverInstall(state, cmd, log) : undefined;
  const updater = new Updater({
    dir: ys,
    cmd,
    supervisor,
    buildInfo: await readBuildInfo(cmd),
    config: testConfig(o.config),
    state,
    log,
    metrics,
    discovery: fixedDiscovery(["v1.0.1", "v1.0.0"], GO),
    fetcher,
    self: { version: "v0.1.0", path: join(dir, "ysco"), argv: [], platform: "linux-amd64" },
    clock,
    random: () => 0,
    writeState: writer.write,
    ...(recovery ? { recovery } : {}),
  });
  const exit = updater.run();
  await settle();
  return {
    dir,
    cmd,
    clock,
    supervisor,
    fetcher,
    writer,
    log,
    metrics,
    updater,
    exit,
    /** The phases of the install journal as written, consecutive repeats folded. */
    phases(): string[] {
      const out: string[] = [];
      for (const s of writer.states) {
        const p = s.install?.phase ?? "-";
        if (out.at(-1) !== p) out.push(p);
      }
      return out;
    },
    /**
     * Moves the fake time on, a second at a time, until p settles; the real I/O in
     * between takes what it takes (a real minute at most, for a load that eats it).
     */
    async until<T>(p: Promise<T>): Promise<T> {
      let done = false;
      const watched = p.finally(() => done = true);
      const deadline = Date.now() + 120_000;
      while (!done && Date.now() < deadline) await clock.advance(1000);
      return await watched;
    },
    async files(): Promise<string[]> {
      return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    },
    async [Symbol.asyncDispose]() {
      updater.signalled("SIGTERM");
      supervisor.current?.exit(0);
      await exit;
      await tmp[Symbol.asyncDispose]();
    },
  };
}

const request = { which: "svc", version: "v1.0.1", goVersion: GO, manual: true } as const;

Deno.test("an update writes its journal before each step and removes it with the outcome", async () => {
  await using t = await setup();
  const result = await t.until(t.updater.update(request));
  assertEquals(result.outcome, "installed", result.reason ?? "");
  assertEquals(t.phases(), ["-", "downloading", "switched", "started", "watching", "-"]);
  assertEquals(t.supervisor.events, [
    `start ${V100}`,
    `stop ${V100}`,
    `exit ${V100} 0`,
    `start ${V101}`,
  ]);
  assertEquals(await Deno.readLink(t.cmd), V101);
  const state = await readState(join(t.dir, "ys"));
  assertEquals(state.install, undefined);
  assertEquals(state.previousBinarySvc, join(t.dir, V100));
  assertEquals(state.history.map((h) => [h.outcome, h.to.version]), [["installed", "v1.0.1"]]);
  assertEquals(state.service?.pid, t.supervisor.current?.pid);
  // Only the two binaries and the symlink: no temporary file.
  assertEquals(await t.files(), ["testsvc", V100, V101, "ys"]);
});

Deno.test("a new version that exits at once is rolled back in one write, its binary removed", async () => {
  await using t = await setup();
  t.supervisor.behaviour.set(V101, "exit at once");
  const result = await t.until(t.updater.update(request));
  assertEquals([result.outcome, result.reason], ["rolled back", "exited with status 3"]);
  assertEquals(t.phases(), [
    "-",
    "downloading",
    "switched",
    "started",
    "watching",
    "rolling back",
    "-",
  ]);
  assertEquals(t.supervisor.events, [
    `start ${V100}`,
    `stop ${V100}`,
    `exit ${V100} 0`,
    `start ${V101}`,
    `exit ${V101} 3`,
    `start ${V100}`,
  ]);
  assertEquals(await Deno.readLink(t.cmd), V100);
  assertEquals(await t.files(), ["testsvc", V100, "ys"]);
  const state = await readState(join(t.dir, "ys"));
  assertMatch(
    state.pauseReason,
    /v1\.0\.1 go1\.23\.5 failed after an update: exited with status 3$/,
  );
  assertEquals(state.history.map((h) => h.outcome), ["rolled back"]);
  // The rolled-back release is not scheduled again by the next check.
  await t.updater.check();
  assertEquals((await readState(join(t.dir, "ys"))).scheduled, []);
  assertMatch(
    t.updater.status().lastCheck?.svcDecision ?? "",
    /v1\.0\.1 with go1\.23\.5 was rolled back at .*install it by hand to retry/,
  );
});

Deno.test("a state write that fails before the switch fails the update and leaves nothing of it", async () => {
  await using t = await setup({ failWrite: (s) => s.install?.phase === "switched" });
  const result = await t.until(t.updater.update(request));
  assertEquals(result.outcome, "failed");
  assertMatch(result.reason ?? "", /Cannot write state file .*No space left/);
  // The service was never stopped, the symlink never changed, the new binary is gone.
  assertEquals(t.supervisor.events, [`start ${V100}`]);
  assertEquals(await Deno.readLink(t.cmd), V100);
  assertEquals(await t.files(), ["testsvc", V100, "ys"]);
  const state = await readState(join(t.dir, "ys"));
  assertEquals(state.install, undefined);
  assertEquals(state.history.map((h) => h.outcome), ["failed"]);
  assertMatch(await t.metrics.registry.render(), /^ysco_state_write_errors_total 1$/m);
});

Deno.test("a stop signal during the download aborts it at once: nothing installed, nothing left", async () => {
  await using t = await setup();
  t.fetcher.fault = "block";
  const update = t.updater.update(request);
  await t.fetcher.blocked.promise;
  t.updater.signalled("SIGTERM");
  const result = await update;
  assertEquals([result.outcome, result.reason], ["cancelled", "ysco received SIGTERM"]);
  t.supervisor.current?.exit(0); // the service ends on the forwarded signal
  assertEquals(await t.exit, 0);
  assertEquals(t.supervisor.events, [`start ${V100}`, `exit ${V100} 0`]);
  assertEquals(await Deno.readLink(t.cmd), V100);
  assertEquals(await t.files(), ["testsvc", V100, "ys"]);
  const state = await readState(join(t.dir, "ys"));
  assertEquals([state.install, state.history.map((h) => h.outcome)], [undefined, ["cancelled"]]);
});

Deno.test("a stop signal while the old version stops: the switch is never made, nothing starts", async () => {
  await using t = await setup();
  const stop = t.supervisor.stop.bind(t.supervisor);
  t.supervisor.stop = (ms) => {
    t.updater.signalled("SIGTERM");
    return stop(ms);
  };
  const result = await t.until(t.updater.update(request));
  assertEquals(result.outcome, "cancelled");
  assertEquals(await t.exit, 0);
  assertEquals(t.supervisor.events, [`start ${V100}`, `stop ${V100}`, `exit ${V100} 0`]);
  assertEquals(await Deno.readLink(t.cmd), V100);
  assertEquals(await t.files(), ["testsvc", V100, "ys"]);
  assertEquals((await readState(join(t.dir, "ys"))).install, undefined);
});

Deno.test("a scheduled update starts within a minute after the wall clock jumps past it", async () => {
  const due = Date.parse("2026-12-01T12:00:00Z"); // two hours after the fake clock's start
  const scheduled = [{
    which: "svc" as const,
    modPath: "example.com/testsvc",
    pkgDir: "/cmd/testsvc",
    version: "v1.0.1",
    goVersion: GO,
    time: new Date(due).toISOString(),
  }];
  await using t = await setup({ state: { ...emptyState(), scheduled } });
  assert((t.clock.nextTimer ?? Infinity) <= 60_000, "the timer wakes within a minute");
  t.clock.jump(3 * 3600_000); // suspend and resume: no timer noticed the time
  assertEquals(t.fetcher.requests.length, 0);
  await t.clock.advance(60_000);
  // The update began on that wake; its first request comes after real file I/O.
  await poll(() => Promise.resolve(t.fetcher.requests.length > 0));
  assertEquals(t.fetcher.requests.map((r) => r.version), ["v1.0.1"]);
});

Deno.test("at start, a scheduled update of the release that runs already is dropped, not attempted", async () => {
  const scheduled = [{
    which: "svc" as const,
    modPath: "example.com/testsvc",
    pkgDir: "/cmd/testsvc",
    version: "v1.0.0",
    goVersion: GO,
    time: "2026-12-01T09:00:00.000Z",
  }];
  await using t = await setup({ state: { ...emptyState(), scheduled } });
  await t.clock.advance(120_000);
  assertEquals(t.fetcher.requests, []);
  // The drop is written in the background.
  await poll(async () => (await readState(join(t.dir, "ys"))).scheduled.length === 0);
  const state = await readState(join(t.dir, "ys"));
  assertEquals([state.scheduled, state.history, state.backoff], [[], [], 0]);
});

/** A journal of an update to v1.0.1 that a killed ysco left, with v1.0.1 installed. */
async function leftInstall(dir: string, phase: InstallJournal["phase"]): Promise<InstallJournal> {
  const bytes = await Deno.readFile(await goBuild({ version: "v1.0.1" }));
  await Deno.writeFile(join(dir, V101), bytes, { mode: 0o755 });
  await Deno.remove(join(dir, "testsvc"));
  await Deno.symlink(V101, join(dir, "testsvc"));
  return {
    phase,
    time: "2026-12-01T09:00:00.000Z",
    manual: false,
    from: { version: "v1.0.0", goVersion: GO, binary: join(dir, V100) },
    to: {
      version: "v1.0.1",
      goVersion: GO,
      binary: join(dir, V101),
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    },
  };
}

Deno.test("an unconfirmed install found at start is watched again, and rolled back when it fails", async () => {
  let journal: InstallJournal | undefined;
  const state = { ...emptyState() };
  await using t = await setup({
    recover: true,
    state,
    before: async (dir) => {
      journal = await leftInstall(dir, "watching");
      state.install = journal;
    },
  });
  assert(journal);
  // It was started as the new version, and is watched: it exits at once now.
  assertEquals(t.supervisor.events, [`start ${V101}`]);
  t.supervisor.current?.exit(3);
  await t.until(poll(() => readState(join(t.dir, "ys")).then((s) => s.install === undefined)));
  assertEquals(t.supervisor.events, [`start ${V101}`, `exit ${V101} 3`, `start ${V100}`]);
  assertEquals(await Deno.readLink(t.cmd), V100);
  const s = await readState(join(t.dir, "ys"));
  assertEquals(s.history.map((h) => [h.outcome, h.reason]), [[
    "rolled back",
    "exited with status 3",
  ]]);
  assertMatch(s.pauseReason, /failed after an update/);
});

Deno.test("an unconfirmed install whose new binary is damaged is rolled back before anything starts", async () => {
  const state = { ...emptyState() };
  await using t = await setup({
    recover: true,
    state,
    before: async (dir) => {
      state.install = await leftInstall(dir, "started");
      await Deno.truncate(join(dir, V101), 1000);
    },
  });
  assertEquals(t.supervisor.events, [`start ${V100}`]);
  await t.until(poll(() => readState(join(t.dir, "ys")).then((s) => s.install === undefined)));
  assertEquals(await Deno.readLink(t.cmd), V100);
  const s = await readState(join(t.dir, "ys"));
  assertEquals(s.history.map((h) => h.outcome), ["rolled back"]);
  assertMatch(s.history[0]?.reason ?? "", /has 1000 bytes, not the \d+ it was verified with/);
  assertEquals(await t.files(), ["testsvc", V100, "ys"]);
});

Deno.test("an install interrupted before the switch ends as cancelled; its binary is removed", async () => {
  const state = { ...emptyState() };
  await using t = await setup({
    recover: true,
    state,
    before: async (dir) => {
      state.install = await leftInstall(dir, "switched");
      await Deno.remove(join(dir, "testsvc"));
      await Deno.symlink(V100, join(dir, "testsvc")); // the rename never happened
    },
  });
  assertEquals(t.supervisor.events, [`start ${V100}`]);
  const s = await readState(join(t.dir, "ys"));
  assertEquals(s.install, undefined);
  assertEquals(s.history.map((h) => [h.outcome, h.reason]), [[
    "cancelled",
    "ysco ended before the new version was switched to",
  ]]);
  assertEquals(s.pauseReason, "");
  assertEquals(await t.files(), ["testsvc", V100, "ys"]);
});

/** Resolves once check() is true (real time; fake time moves with until()); fails after a minute. */
async function poll(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${check}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("a pause whose state cannot be written fails (the API answers 500), and applies meanwhile", async () => {
  await using t = await setup({ failWrite: (s) => s.pauseReason !== "" });
  await assertRejects(() => t.updater.pause("by test"), Error, "No space left");
  assertEquals(t.updater.status().state.pauseReason, "by test");
  assertMatch(await t.metrics.registry.render(), /^ysco_state_write_errors_total 1$/m);
});
