import { assertEquals, assertMatch } from "../_assert.ts";
import { emptyState, writeState } from "../../src/state/state.ts";
import { ysco } from "../../world/util.ts";
import { GO, startWorld } from "../../world/world.ts";

Deno.test("ysco plan shows what would be installed, when and why, and changes nothing", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure(
    '[update]\ndelay = "72h"\nschedule = ["mo-fr 9-17"]\ntimezone = "Europe/Amsterdam"\njitter = "1h"\n',
  );
  const out = await ysco(["plan", "./testsvc"], { cwd: world.dir });
  assertEquals(out.code, 0, out.stderr);
  const lines = out.stdout.split("\n");
  assertEquals(
    lines[0],
    `./testsvc: example.com/testsvc v1.0.0 ${GO} (policy patch, toolchain follow)`,
  );
  assertEquals(lines[1], "Found: v1.0.1 (by dns)");
  assertEquals(lines[2], `Go toolchains: current ${GO}, previous go1.22.12`);
  assertMatch(
    out.stdout,
    new RegExp(
      `Would install v1\\.0\\.1 with ${GO} between \\w+ \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\+0[12]:00 and .* \\(in \\dd \\d+h \\d+m\\)\\.`,
    ),
  );
  assertMatch(out.stdout, /Schedule: .*Europe\/Amsterdam/);
  assertMatch(out.stdout, /Why: patch release v1\.0\.1 of v1\.0\.x/);
  // A dry run: no state written.
  await Deno.stat(`${world.dir}/ys/state.json`).then(
    () => Promise.reject(new Error("state.json written")),
    () => {},
  );

  const json = await ysco(["plan", "-json", "./testsvc"], { cwd: world.dir });
  const plan = JSON.parse(json.stdout);
  assertEquals([plan.status, plan.added.version, plan.added.goVersion], [
    "scheduled",
    "v1.0.1",
    GO,
  ]);
  assertEquals(plan.versions, ["v1.0.1"]);
});

Deno.test("ysco plan says why nothing is due: paused, or no newer version", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await world.configure();
  const none = await ysco(["plan", "./testsvc"], { cwd: world.dir });
  assertEquals(none.code, 0, none.stderr);
  assertMatch(none.stdout, /No update: /);
  await writeState(`${world.dir}/ys`, { ...emptyState(), pauseReason: "manually paused" });
  await world.announce(["v1.0.1"]);
  const paused = await ysco(["plan", "./testsvc"], { cwd: world.dir });
  assertMatch(
    paused.stdout,
    /Updates are paused \(manually paused\): nothing is installed until unpaused\./,
  );
  const bad = await ysco(["plan", "./nonexistent"], { cwd: world.dir });
  assertEquals(bad.code, 1);
  assertMatch(bad.stderr, /^ysco plan: \.\/nonexistent: cannot open: No such file/);
});
