import { join } from "node:path";
import { readState } from "../../src/state/state.ts";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { isAlive, poll } from "../../world/process.ts";
import { GO, readWorldState, startWorld } from "../../world/world.ts";

interface History {
  outcome: string;
  reason?: string;
  to: { version: string };
}

Deno.test("a new version that exits at once is rolled back, and automatic updates pause with the reason", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure();
  const ysco = await world.startYsco({ TESTSVC_ONLY_VERSION: "v1.0.1", TESTSVC_EXIT_CODE: "3" });
  await ysco.waitFor(/^testsvc v1\.0\.1: exiting with code 3$/);
  await ysco.waitFor(
    /level=WARN msg="rolled back after failed update" ysco="" version=v1\.0\.0 goversion=go1\.23\.5/,
  );
  await world.waitForVersion("v1.0.0");
  await ysco.waitFor(/msg="update ended" .*outcome="rolled back"/);
  assertEquals(await Deno.readLink(`${world.dir}/testsvc`), `testsvc-v1.0.0-${GO}`);
  const state = await readWorldState(world);
  assertEquals(
    state.pauseReason,
    `example.com/testsvc v1.0.1 ${GO} failed after an update: exited with status 3`,
  );
  assertEquals(state.scheduled, []); // the failed release does not come back after an unpause
  const history = state.history as History[];
  assertEquals(history.map((h) => [h.outcome, h.to.version, h.reason]), [[
    "rolled back",
    "v1.0.1",
    "exited with status 3",
  ]]);
  const metrics = await (await world.admin("/metrics")).text();
  assertMatch(metrics, /^ysco_service_update_rollback_total 1$/m);
  assertMatch(metrics, /^ysco_updates_paused 1$/m);
  assertMatch(metrics, /^ysco_service_version\{version="v1\.0\.0"\} 1$/m);
  // ysco itself keeps running and the old version keeps serving.
  assertEquals((await world.status()).PauseReason, state.pauseReason);
});

Deno.test("a new version that fails its health check is rolled back", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure(
    `[update]\nhealth_url = "http://127.0.0.1:${world.servicePort}/healthz"\nhealth_timeout = "2s"\n`,
  );
  const ysco = await world.startYsco({ TESTSVC_ONLY_VERSION: "v1.0.1", TESTSVC_HEALTH: "fail" });
  await ysco.waitFor(
    /msg="update ended" .*outcome="rolled back" .*reason="health check of http:\/\/127\.0\.0\.1:\d+\/healthz: not healthy within 2s: status 500"/,
  );
  await world.waitForVersion("v1.0.0");
  const state = await readWorldState(world);
  assertMatch(String(state.pauseReason), /failed after an update: health check of .*status 500$/);
});

Deno.test("a healthy new version passes the health check and the soak", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure(
    `[update]\nhealth_url = "http://127.0.0.1:${world.servicePort}/healthz"\nsoak = "6s"\n`,
  );
  const ysco = await world.startYsco();
  await ysco.waitFor(/msg="update installed" .*version=v1\.0\.1/);
  const state = await readWorldState(world);
  assertEquals(state.pauseReason, "");
});

Deno.test("a quick exit of the very first start is an exit, not a rollback", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await world.configure();
  const { startYsco } = await import("../../world/process.ts");
  await using ysco = startYsco(["run", world.cmd], {
    cwd: world.dir,
    env: { TESTSVC_EXIT_CODE: "7" },
  });
  assertEquals((await ysco.exit()).code, 7);
  // No state file is no pause; a corrupt one fails the test.
  const state = await readState(join(world.dir, "ys"));
  assertEquals([state.pauseReason, state.history], ["", []]);
});

Deno.test("when the rolled-back version exits quickly too, ysco gives up with its exit code", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure('[monitor]\ndelay = "1h"\n');
  const marker = `${world.dir}/broken`;
  const ysco = await world.startYsco({ TESTSVC_EXIT_IF_EXISTS: marker });
  // From now on every start of the service fails: the new version, and the old one after the rollback.
  await Deno.writeTextFile(marker, "");
  assertEquals(
    (await world.postForm({ command: "update", which: "svc", version: "v1.0.1", goversion: GO }))
      .status,
    303,
  );
  await ysco.waitFor(/msg="rolled back after failed update"/);
  await ysco.waitFor(
    /level=ERROR msg="service quit within 5s after a rollback, giving up" ysco="" exitcode=4/,
  );
  assertEquals((await ysco.exit()).code, 4);
  const state = await readWorldState(world);
  assertMatch(String(state.pauseReason), /failed after an update: exited with status 4$/);
});

Deno.test("SIGTERM to ysco while it watches a new version stops ysco and the service, without a rollback", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure('[update]\nsoak = "30s"\n');
  const ysco = await world.startYsco();
  await ysco.waitFor(/msg="new version started, watching it" .*pid=(\d+)/);
  // Answering means it handles SIGTERM (before, Go's default action would kill it: 143).
  await world.waitForVersion("v1.0.1");
  const pid = Number((await world.status()).Pid);
  ysco.kill("SIGTERM");
  const status = await ysco.exit();
  assertEquals(status.code, 0);
  await poll("the service gone", () => isAlive(pid) ? undefined : true);
  assert(!ysco.output().includes("rolling back"), ysco.output());
  await ysco.waitFor(
    /msg="service ended after a signal to ysco, quitting" ysco="" signal=SIGTERM exitcode=0/,
  );
});
