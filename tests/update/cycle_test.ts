import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { poll } from "../../world/process.ts";
import { GO, GO_OLD, readWorldState, startWorld } from "../../world/world.ts";

interface History {
  outcome: string;
  manual: boolean;
  reason?: string;
  to: { version: string; goVersion: string };
}

Deno.test("a patch release announced after a webhook is discovered, scheduled and installed, keeping the previous binary", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await world.configure();
  const ysco = await world.startYsco();
  // The first check (monitor.delay 0s) finds nothing new.
  await ysco.waitFor(
    /level=INFO msg="checked for updates" ysco="" versions=v1\.0\.0 toolchain=go1\.23\.5/,
  );
  await world.announce(["v1.0.1"]);
  const notify = await fetch(`http://127.0.0.1:${world.adminPort}/notify`, {
    method: "POST",
    body: "{}",
  });
  assertEquals([notify.status, await notify.text()], [200, "ok\n"]);
  await world.waitForVersion("v1.0.1");
  await ysco.waitFor(
    /level=INFO msg="update installed" ysco="" which=svc version=v1\.0\.1 goversion=go1\.23\.5 outcome=installed from=v1\.0\.0\/go1\.23\.5/,
  );
  assertEquals(await Deno.readLink(`${world.dir}/testsvc`), `testsvc-v1.0.1-${GO}`);
  const state = await readWorldState(world);
  assertEquals(state.previousBinarySvc, `${world.dir}/testsvc-v1.0.0-${GO}`);
  await Deno.stat(`${world.dir}/testsvc-v1.0.0-${GO}`); // kept for a rollback
  const history = state.history as History[];
  assertEquals(history.map((h) => [h.outcome, h.manual, h.to.version]), [[
    "installed",
    false,
    "v1.0.1",
  ]]);
  assertEquals(state.scheduled, []);
  const json = await world.status();
  assertEquals([json.SvcVersion, json.SvcGoVersion, json.UpdateBusy], ["v1.0.1", GO, false]);
});

Deno.test("the first periodic check installs an update found at start, and the toolchain follows the new release", async () => {
  // Built with Go 1.19: the follow policy moves to the current Go with the new release.
  await using world = await startWorld({ go: "1.19", announced: ["v1.0.1"] });
  await world.configure();
  const ysco = await world.startYsco();
  await world.waitForVersion("v1.0.1", GO);
  await ysco.waitFor(/msg="found new version" .*newversion=v1\.0\.1 newtoolchain=go1\.23\.5/);
  await ysco.waitFor(/msg="update installed"/);
  const first = await readWorldState(world);
  assertEquals(first.previousBinarySvc, `${world.dir}/testsvc-v1.0.0-${GO_OLD}`);
});

Deno.test("a manual update through the admin form installs a minor release the patch policy would not", async () => {
  await using world = await startWorld({ announced: ["v1.1.0"] });
  await world.configure('[monitor]\ndelay = "1h"\n');
  const ysco = await world.startYsco();
  const res = await world.postForm({
    command: "update",
    which: "svc",
    version: "v1.1.0",
    goversion: GO,
  });
  assertEquals([res.status, res.headers.get("location")], [303, "/"]);
  await world.waitForVersion("v1.1.0");
  await ysco.waitFor(/msg="update installed"/);
  const history = (await readWorldState(world)).history as History[];
  assertEquals(history.map((h) => [h.outcome, h.manual, h.to.version]), [[
    "installed",
    true,
    "v1.1.0",
  ]]);
});

Deno.test("POST /update resolves latest and current, refuses a no-op, and answers when the update is done", async () => {
  await using world = await startWorld({ announced: ["v1.1.0"] });
  await world.configure('[monitor]\ndelay = "1h"\n');
  await world.startYsco();
  const post = (q: string) => world.admin(`/update?${q}`, { method: "POST" });
  const noop = await post("which=svc&version=current&goversion=current");
  assertEquals([noop.status, await noop.text()], [
    400,
    "400 - Bad Request - already at requested version\n",
  ]);
  const bad = await post("which=other&version=v1.0.1&goversion=current");
  assertEquals(bad.status, 400);
  await bad.body?.cancel();
  const ok = await post("which=svc&version=latest&goversion=current");
  assertEquals([ok.status, await ok.text()], [200, "ok\n"]);
  assertEquals(await world.serviceVersion(), `example.com/testsvc v1.1.0 ${GO}\n`);
});

Deno.test("a pause holds back a scheduled update, and unpausing installs it", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await world.configure();
  const ysco = await world.startYsco();
  await ysco.waitFor(/msg="checked for updates"/);
  assertEquals((await world.postForm({ command: "pause" })).status, 303);
  await world.announce(["v1.0.1"]);
  const check = await world.postForm({ command: "check" });
  assertEquals(check.status, 303);
  const paused = await world.status();
  assertEquals(paused.PauseReason, "manually paused");
  assertEquals((paused.Scheduled as Array<{ Version: string }>).map((u) => u.Version), ["v1.0.1"]);
  assertEquals(await world.serviceVersion(), `example.com/testsvc v1.0.0 ${GO}\n`);
  assertEquals((await world.postForm({ command: "unpause" })).status, 303);
  await world.waitForVersion("v1.0.1");
});

Deno.test("a ysco restarted in the middle of a schedule installs the update from its state", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure('[update]\ndelay = "6s"\n');
  const first = await world.startYsco();
  await first.waitFor(/msg="next update scheduled" .*version=v1\.0\.1/);
  first.kill("SIGTERM");
  assertEquals((await first.exit()).code, 0);
  const state = await readWorldState(world);
  assertEquals((state.scheduled as Array<{ version: string }>).map((u) => u.version), ["v1.0.1"]);
  // No more discovery: the restarted ysco has only its state to go by.
  await world.dns[Symbol.asyncDispose]();
  await world.configure('[update]\ndelay = "6s"\n[monitor]\ndelay = "1h"\n');
  const second = await world.startYsco();
  await second.waitFor(/msg="next update scheduled" .*version=v1\.0\.1/);
  await world.waitForVersion("v1.0.1");
});

Deno.test("a service ignoring SIGTERM is killed after stop_timeout and the update goes on", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure('[update]\nstop_timeout = "1s"\n');
  const ysco = await world.startYsco({ TESTSVC_ONLY_VERSION: "v1.0.0", TESTSVC_IGNORE_TERM: "1" });
  await world.waitForVersion("v1.0.1");
  await ysco.waitFor(
    /level=WARN msg="service did not exit after SIGTERM, killing its process group"/,
  );
});

Deno.test("a failure to install after the stop restarts the old binary and backs off", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure('[update]\nstop_timeout = "3s"\n');
  const ysco = await world.startYsco({ TESTSVC_ONLY_VERSION: "v1.0.0", TESTSVC_IGNORE_TERM: "1" });
  // While ysco waits for the stubborn service, make the directory immutable: the switch fails.
  await ysco.waitFor(/^testsvc v1\.0\.0: signal terminated$/);
  await run("chattr", ["+i", world.dir]);
  try {
    await ysco.waitFor(/level=ERROR msg="installing new binary failed, restarting the old one"/);
    await ysco.waitFor(
      /msg="update ended" .*outcome=failed .*reason="installing: Cannot point symlink/,
    );
    await world.waitForVersion("v1.0.0");
  } finally {
    await run("chattr", ["-i", world.dir]);
  }
  const state = await readWorldState(world);
  assertEquals(state.backoff, 1);
  assertMatch(String(state.backoffReason), /^installing: Cannot point symlink/);
  const json = await world.status();
  assertEquals(json.UpdateBusy, false);
});

Deno.test("a service installed as a regular file is replaced in place, the old one kept under its versioned name", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"], noSymlink: true });
  await world.configure();
  const ysco = await world.startYsco();
  await world.waitForVersion("v1.0.1");
  await ysco.waitFor(/msg="update installed"/);
  const info = await Deno.lstat(`${world.dir}/testsvc`);
  assert(info.isFile);
  await Deno.stat(`${world.dir}/testsvc-v1.0.0-${GO}`);
  assertEquals(
    (await readWorldState(world)).previousBinarySvc,
    `${world.dir}/testsvc-v1.0.0-${GO}`,
  );
});

Deno.test("the before command can cancel an update; the after command sees its outcome", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  const log = `${world.dir}/hooks.log`;
  await world.configure(`[update]
before = "echo before $YSCO_FROM_VERSION $YSCO_TO_VERSION >> ${log}; test ! -e ${world.dir}/block"
after = "echo after $YSCO_OUTCOME $YSCO_TO_VERSION $YSCO_TO_GOVERSION >> ${log}"
`);
  await Deno.writeTextFile(`${world.dir}/block`, "");
  const ysco = await world.startYsco();
  await ysco.waitFor(
    /msg="update ended" .*outcome=cancelled .*reason="before command exited with status 1"/,
  );
  assertEquals(await world.serviceVersion(), `example.com/testsvc v1.0.0 ${GO}\n`);
  // Retried after a backoff, not at once.
  await ysco.waitFor(/msg="next update scheduled" .*wait=3600s version=v1\.0\.1/);
  assertEquals((await readWorldState(world)).backoff, 1);
  await Deno.remove(`${world.dir}/block`);
  const res = await world.postForm({
    command: "update",
    which: "svc",
    version: "v1.0.1",
    goversion: GO,
  });
  assertEquals(res.status, 303);
  await world.waitForVersion("v1.0.1");
  await ysco.waitFor(/msg="update installed"/);
  // The after command runs once the update is recorded.
  const lines = await poll("the after command", async () => {
    const text = (await Deno.readTextFile(log)).trim().split("\n");
    return text.length >= 4 ? text : undefined;
  });
  assertEquals(lines, [
    "before v1.0.0 v1.0.1",
    "after cancelled v1.0.1 go1.23.5",
    "before v1.0.0 v1.0.1",
    `after installed v1.0.1 ${GO}`,
  ]);
});

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}
