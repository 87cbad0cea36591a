import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { type PlanInput, planUpdate } from "../../src/decide/plan.ts";
import { emptyState, type ScheduledUpdate } from "../../src/state/state.ts";

const H = 3_600_000;
const NOW = Date.parse("2024-10-07T22:39:30+02:00"); // Monday evening in Amsterdam

/** A plan input as `ysco plan` fills it from the binary, discovery, config and state. */
function input(overrides: Partial<PlanInput> = {}): PlanInput {
  return {
    target: { which: "svc", modPath: "example.com/svc", pkgDir: "/cmd/svc" },
    running: { version: "v0.1.2", goVersion: "go1.23.2" },
    found: {
      versions: [{ version: "v0.2.0" }, { version: "v0.1.3" }, { version: "v0.1.2" }],
      toolchains: { cur: "go1.23.3", prev: "go1.22.9", next: "go1.24rc1" },
    },
    policy: { version: "patch", toolchain: "follow" },
    update: {
      delay: 72 * H,
      jitter: H,
      all: false,
      schedule: ["mo-fr 9-17"],
      timezone: "Europe/Amsterdam",
    },
    state: emptyState(),
    now: NOW,
    ...overrides,
  };
}

function pending(version: string, time: string, which: "svc" | "self" = "svc"): ScheduledUpdate {
  return {
    time: new Date(time).toISOString(),
    which,
    modPath: "example.com/svc",
    pkgDir: "/cmd/svc",
    version,
    goVersion: "go1.23.3",
    discovered: new Date(Date.parse(time) - 72 * H).toISOString(),
  };
}

Deno.test("planUpdate() schedules a new patch release after the delay, inside the schedule", () => {
  const plan = planUpdate(input());
  assertEquals(plan.status, "scheduled");
  assertEquals(plan.reference, { version: "v0.1.2", goVersion: "go1.23.2", pending: false });
  // Thursday 22:39 + nothing allowed until Friday 09:00; jitter up to 59m59s.
  const added: ScheduledUpdate = {
    time: new Date("2024-10-11T09:00:00+02:00").toISOString(),
    which: "svc",
    modPath: "example.com/svc",
    pkgDir: "/cmd/svc",
    version: "v0.1.3",
    goVersion: "go1.23.3",
    discovered: new Date(NOW).toISOString(),
  };
  assertEquals(plan.added, added);
  assertEquals(plan.scheduled, [added]);
  assertEquals(plan.next, {
    update: added,
    earliest: Date.parse("2024-10-11T09:00:00+02:00"),
    latest: Date.parse("2024-10-11T09:59:59+02:00"),
    backoff: 0,
  });
  assertEquals(
    plan.summary,
    [
      "Would install v0.1.3 with go1.23.3 between Fri 2024-10-11 09:00:00 +02:00 and " +
      "Fri 2024-10-11 09:59:59 +02:00 (in 3d 10h 20m).",
      "Schedule: mo-fr 9-17 (Europe/Amsterdam).",
      "Why: patch release v0.1.3 of v0.1.x; toolchain follows to go1.23.3 with the new release.",
    ].join("\n"),
  );
});

Deno.test("planUpdate() says why nothing is due", () => {
  type Row = [string, Partial<PlanInput>, RegExp];
  const rows: Row[] = [
    // Policy.
    [
      "manual",
      { policy: { version: "manual", toolchain: "manual" } },
      /^No update: version policy manual: v0\.2\.0 is not installed automatically; toolchain stays at go1\.23\.2 \(toolchain policy manual\)\.$/,
    ],
    // No newer version.
    [
      "up to date",
      { running: { version: "v0.2.0", goVersion: "go1.23.3" } },
      /^No update: no newer version than v0\.2\.0; toolchain stays at go1\.23\.3\.$/,
    ],
    // Not a module version.
    [
      "devel",
      { running: { version: "(devel)", goVersion: "go1.23.2" } },
      /^No update: current version "\(devel\)" is not a module version/,
    ],
    // Only a prerelease newer.
    ["prerelease", {
      running: { version: "v0.1.2", goVersion: "go1.23.3" },
      found: {
        versions: ["v0.1.3-rc.1"],
        toolchains: { cur: "go1.23.3", prev: "go1.22.9", next: "" },
      },
    }, /prereleases such as v0\.1\.3-rc\.1 are never installed automatically/],
  ];
  for (const [name, overrides, want] of rows) {
    const plan = planUpdate(input(overrides));
    assertEquals([plan.status, plan.added, plan.next, plan.scheduled], [
      "none",
      undefined,
      undefined,
      [],
    ], name);
    assertMatch(plan.summary, want, name);
  }
});

Deno.test("planUpdate() does not reschedule what is already pending", () => {
  const p = pending("v0.1.3", "2024-10-08T09:00:00+02:00");
  const plan = planUpdate(input({ state: { ...emptyState(), scheduled: [p] } }));
  assertEquals(plan.status, "pending");
  assertEquals(plan.reference, { version: "v0.1.3", goVersion: "go1.23.3", pending: true });
  assertEquals(plan.added, undefined);
  assertEquals(plan.scheduled, [p]);
  assertEquals(plan.next?.earliest, Date.parse("2024-10-08T09:00:00+02:00"));
  assertMatch(
    plan.summary,
    /This update was scheduled earlier, found Sat 2024-10-05 09:00:00 \+02:00\./,
  );
  assertMatch(
    plan.summary,
    /Nothing newer: v0\.2\.0 is newer, but version policy patch takes only v0\.1\.x/,
  );
});

Deno.test("planUpdate() replaces a pending update with a newer one unless update.all", () => {
  const p = pending("v0.1.3", "2024-10-08T09:00:00+02:00");
  const self = pending("v0.9.1", "2024-10-09T09:00:00+02:00", "self");
  const found = {
    versions: ["v0.1.4", "v0.1.3"],
    toolchains: { cur: "go1.23.3", prev: "go1.22.9", next: "" },
  };
  type Row = [boolean, string[], string[], string];
  const rows: Row[] = [
    // Replaced: only the newest is installed, after a fresh delay.
    [false, ["v0.9.1", "v0.1.4"], ["v0.1.3"], "v0.1.4"],
    // update.all: queued after the pending one, which comes first.
    [true, ["v0.1.3", "v0.9.1", "v0.1.4"], [], "v0.1.3"],
  ];
  for (const [all, scheduled, cancelled, next] of rows) {
    const plan = planUpdate(input({
      found,
      update: { ...input().update, all },
      state: { ...emptyState(), scheduled: [p, self] },
    }));
    assertEquals(plan.status, "scheduled", `all ${all}`);
    assertEquals(plan.added?.version, "v0.1.4");
    assertEquals(plan.scheduled.map((u) => u.version), scheduled, `all ${all}`);
    assertEquals(plan.cancelled.map((u) => u.version), cancelled, `all ${all}`);
    assertEquals(plan.next?.update.version, next, `all ${all}`);
  }
});

Deno.test("planUpdate() while paused still shows what would follow the unpause", () => {
  const plan = planUpdate(input({ state: { ...emptyState(), pauseReason: "rolled back v0.1.3" } }));
  assertEquals(plan.status, "paused");
  assertEquals(plan.pauseReason, "rolled back v0.1.3");
  assertEquals(plan.added?.version, "v0.1.3");
  assertMatch(
    plan.summary,
    /^Updates are paused \(rolled back v0\.1\.3\): nothing is installed until unpaused\.\nThen would install v0\.1\.3/,
  );
});

Deno.test("planUpdate() finds a toolchain-only update with an empty version list", () => {
  const plan = planUpdate(input({
    found: { versions: [], toolchains: { cur: "go1.23.3", prev: "go1.22.9", next: "" } },
    update: { delay: 0, jitter: 0, all: false, schedule: [], timezone: "" },
  }));
  assertEquals(plan.status, "scheduled");
  assertEquals([plan.added?.version, plan.added?.goVersion], ["v0.1.2", "go1.23.3"]);
  assertEquals(plan.decision.foundMajor, false);
  // No delay, no jitter, no schedule: now.
  assertEquals([plan.next?.earliest, plan.next?.latest], [NOW, NOW]);
  assertMatch(plan.summary, /at Mon 2024-10-07 \d\d:39:30 [+-]\d\d:\d\d \(in now\)/);
});

Deno.test("planUpdate() includes the backoff of failed attempts", () => {
  const p = pending("v0.1.3", "2024-10-08T09:00:00+02:00");
  const plan = planUpdate(input({
    state: { ...emptyState(), scheduled: [p], backoff: 3, backoffReason: "Cannot download binary" },
  }));
  assertEquals(plan.next?.backoff, 4 * H);
  assertEquals(plan.next?.earliest, Date.parse("2024-10-08T13:00:00+02:00"));
  assert(
    plan.summary.includes(
      "Includes a backoff of 4h 0m after 3 failed attempts: Cannot download binary.",
    ),
  );
});
