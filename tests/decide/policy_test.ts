import { assert, assertEquals, assertMatch } from "../_assert.ts";
import type { ToolchainPolicy, VersionPolicy } from "../../src/config/config.ts";
import { type Found, pickToolchain, pickUpdate, policiesFor } from "../../src/decide/policy.ts";
import type { Toolchains } from "../../src/version/toolchains.ts";

const tc0: Toolchains = { prev: "go1.22.8", cur: "go1.23.2", next: "" };
const tc1: Toolchains = { prev: "go1.22.9", cur: "go1.23.3", next: "" };

Deno.test("pickUpdate() passes every row of the original's decision table", () => {
  type Row = [
    VersionPolicy,
    ToolchainPolicy,
    Toolchains,
    string, // reference version
    string, // reference goversion (= running goversion)
    string, // available
    string, // -> version
    string, // -> goversion
    boolean, // update
    boolean, // foundMajor
  ];
  const rows: Row[] = [
    // Manual everything: nothing moves.
    ["manual", "manual", tc0, "v0.1.2", "go1.23.2", "v0.1.3", "v0.1.2", "go1.23.2", false, true],
    // Manual versions, follow toolchain already on cur.
    ["manual", "follow", tc0, "v0.1.2", "go1.23.2", "v0.1.3", "v0.1.2", "go1.23.2", false, true],
    // Manual versions still get a toolchain patch release.
    ["manual", "follow", tc1, "v0.1.2", "go1.23.2", "v0.1.3", "v0.1.2", "go1.23.3", true, true],
    // Nothing newer.
    ["patch", "follow", tc0, "v0.1.2", "go1.23.2", "v0.1.2", "v0.1.2", "go1.23.2", false, true],
    // Patch release, toolchain unchanged.
    ["patch", "follow", tc0, "v0.1.2", "go1.23.2", "v0.1.3", "v0.1.3", "go1.23.2", true, true],
    // Patch release and toolchain patch release.
    ["patch", "follow", tc1, "v0.1.2", "go1.23.2", "v0.1.3", "v0.1.3", "go1.23.3", true, true],
    // Already up to date.
    ["patch", "follow", tc1, "v0.1.3", "go1.23.3", "v0.1.3", "v0.1.3", "go1.23.3", false, true],
    // New release: follow moves to cur, not to the newest go1.22.
    ["patch", "follow", tc1, "v0.1.2", "go1.22.8", "v0.1.3", "v0.1.3", "go1.23.3", true, true],
    // Unsupported go1.21 moves to prev under follow.
    ["patch", "follow", tc1, "v0.1.2", "go1.21.8", "v0.1.2", "v0.1.2", "go1.22.9", true, true],
    // ... and under supported.
    ["patch", "supported", tc1, "v0.1.2", "go1.21.8", "v0.1.2", "v0.1.2", "go1.22.9", true, true],
    // Toolchain policy minor always moves to cur.
    ["patch", "minor", tc1, "v0.1.2", "go1.22.8", "v0.1.2", "v0.1.2", "go1.23.3", true, true],
    // Patch policy does not take a new minor.
    ["patch", "follow", tc0, "v0.0.2", "go1.22.8", "v0.1.2", "v0.0.2", "go1.22.8", false, true],
    // Minor policy does, and follow moves to cur.
    ["minor", "follow", tc0, "v0.0.2", "go1.22.8", "v0.1.2", "v0.1.2", "go1.23.2", true, true],
    // Another major only: nothing, foundMajor false.
    ["manual", "manual", tc0, "v0.0.2", "go1.22.8", "v1.1.2", "v0.0.2", "go1.22.8", false, false],
    // Another major only, but a toolchain patch release.
    ["manual", "follow", tc1, "v0.0.2", "go1.22.8", "v1.1.2", "v0.0.2", "go1.22.9", true, false],
    // A running prerelease moves to its release.
    ["patch", "follow", tc1, "v0.0.3-pre", "go1.22.9", "v0.0.3", "v0.0.3", "go1.23.3", true, true],
    // ... but not under manual; the toolchain still moves.
    [
      "manual",
      "follow",
      tc1,
      "v0.0.3-pre",
      "go1.22.8",
      "v0.0.3",
      "v0.0.3-pre",
      "go1.22.9",
      true,
      true,
    ],
  ];
  for (const [pol, poltc, tc, ref, refGo, avail, version, goVersion, update, foundMajor] of rows) {
    const d = pickUpdate(
      { version: ref, goVersion: refGo },
      { versions: [avail], toolchains: tc },
      {
        version: pol,
        toolchain: poltc,
      },
    );
    assertEquals(
      { version: d.version, goVersion: d.goVersion, update: d.update, foundMajor: d.foundMajor },
      { version, goVersion, update, foundMajor },
      `${pol} ${poltc} ${tc.cur} ${ref} ${refGo} [${avail}]`,
    );
  }
});

Deno.test("pickUpdate() never picks prereleases or pseudo-versions automatically", () => {
  const toolchains = tc0;
  type Row = [string, Found["versions"], string, string[]];
  const rows: Row[] = [
    // A newer prerelease of the same minor is skipped; the older release is kept.
    ["v1.2.3", ["v1.2.4-rc.1", "v1.2.3"], "v1.2.3", ["v1.2.4-rc.1"]],
    // The release below a prerelease is still found behind it.
    ["v1.2.3", ["v1.2.5-rc.1", "v1.2.4", "v1.2.3"], "v1.2.4", ["v1.2.5-rc.1"]],
    // A pseudo-version after v1.2.3 is a prerelease of v1.2.4: skipped.
    ["v1.2.3", ["v1.2.4-0.20240102030405-abcdef123456"], "v1.2.3", [
      "v1.2.4-0.20240102030405-abcdef123456",
    ]],
    // Flags from discovery are honoured even when the text would not tell.
    ["v1.2.3", [{ version: "v1.2.9", prerelease: true }], "v1.2.3", ["v1.2.9"]],
    ["v1.2.3", [{ version: "v1.2.8", pseudo: true }, "v1.2.7"], "v1.2.7", ["v1.2.8"]],
    // A running prerelease still moves to its release (and not to a later prerelease).
    ["v1.3.0-rc.1", ["v1.3.0-rc.2", "v1.3.0"], "v1.3.0", []],
    // A running prerelease with only a later prerelease stays.
    ["v1.3.0-rc.1", ["v1.3.0-rc.2"], "v1.3.0-rc.1", ["v1.3.0-rc.2"]],
    // A running pseudo-version moves to the next release of its line.
    ["v1.2.4-0.20240102030405-abcdef123456", ["v1.2.4", "v1.2.3"], "v1.2.4", []],
  ];
  for (const [ref, versions, want, skipped] of rows) {
    const d = pickUpdate({ version: ref, goVersion: "go1.23.2" }, { versions, toolchains }, {
      version: "patch",
      toolchain: "manual",
    });
    assertEquals(
      [d.version, d.skippedPrereleases],
      [want, skipped],
      `${ref} ${JSON.stringify(versions)}`,
    );
  }
});

Deno.test("pickUpdate() is not broken by +incompatible, bad or unordered versions", () => {
  const toolchains = tc0;
  type Row = [string, string[], string, string[]];
  const rows: Row[] = [
    // +incompatible candidates of the reference's major compare by semver.
    ["v2.0.0+incompatible", ["v2.0.1+incompatible", "v1.9.0"], "v2.0.1+incompatible", []],
    // A +incompatible entry of another major does not break the decision.
    ["v1.2.3", ["v2.0.0+incompatible", "v1.2.4"], "v1.2.4", []],
    // Unparsable lines are ignored and reported.
    ["v1.2.3", ["garbage", "v1.2.4", "1.2.5"], "v1.2.4", ["garbage", "1.2.5"]],
    // The list's order does not matter: the newest patch release wins.
    ["v1.2.3", ["v1.2.4", "v1.2.6", "v1.2.5"], "v1.2.6", []],
    // The same version with build metadata is not newer.
    ["v1.2.3", ["v1.2.3+meta"], "v1.2.3", []],
  ];
  for (const [ref, versions, want, ignored] of rows) {
    const d = pickUpdate({ version: ref, goVersion: "go1.23.2" }, { versions, toolchains }, {
      version: "patch",
      toolchain: "manual",
    });
    assertEquals([d.version, d.ignored], [want, ignored], `${ref} ${versions.join(",")}`);
  }
});

Deno.test("pickUpdate() finds a toolchain-only update when no version of the major is listed", () => {
  type Row = [string[], ToolchainPolicy, string, boolean];
  const rows: Row[] = [
    // Empty list (e.g. a proxy that lists nothing): the toolchain patch release is found.
    [[], "follow", "go1.23.3", true],
    // Only another major listed.
    [["v2.0.0", "v3.1.0"], "patch", "go1.23.3", true],
    // Toolchain manual: nothing to do.
    [[], "manual", "go1.23.2", false],
  ];
  for (const [versions, toolchain, goVersion, update] of rows) {
    const d = pickUpdate({ version: "v1.2.3", goVersion: "go1.23.2" }, {
      versions,
      toolchains: tc1,
    }, { version: "patch", toolchain });
    assertEquals([d.version, d.goVersion, d.update, d.foundMajor], [
      "v1.2.3",
      goVersion,
      update,
      false,
    ]);
  }
});

Deno.test("pickToolchain() handles unrecognized, missing and stale toolchain information", () => {
  type Row = [string, string | undefined, Toolchains, ToolchainPolicy, string];
  const rows: Row[] = [
    // An rc reference is not a release: the running toolchain is used (docs/behaviour.md section 6.2).
    ["go1.24rc1", "go1.23.2", tc1, "follow", "go1.23.2"],
    // "go1.20" has no patch: same.
    ["go1.20", "go1.20.3", tc1, "patch", "go1.20.3"],
    // No toolchain information: stay, never move to "".
    ["go1.21.8", undefined, { cur: "", prev: "", next: "" }, "follow", "go1.21.8"],
    ["go1.21.8", undefined, { cur: "", prev: "", next: "" }, "minor", "go1.21.8"],
    // Stale list older than the reference: never downgrade.
    ["go1.25.1", undefined, tc1, "supported", "go1.25.1"],
    ["go1.25.1", undefined, tc1, "minor", "go1.25.1"],
    // Patch policy on an unsupported line stays.
    ["go1.21.8", undefined, tc1, "patch", "go1.21.8"],
    // Patch policy takes the prev line's newest patch.
    ["go1.22.1", undefined, tc1, "patch", "go1.22.9"],
    // A release candidate in next is never chosen.
    ["go1.23.3", undefined, { ...tc1, next: "go1.24rc1" }, "minor", "go1.23.3"],
  ];
  for (const [goVersion, running, tc, policy, want] of rows) {
    const current = running === undefined
      ? { version: "v1.0.0", goVersion }
      : { version: "v1.0.0", goVersion, runningGoVersion: running };
    assertEquals(pickToolchain(current, tc, policy).goVersion, want, `${goVersion} ${policy}`);
  }
});

Deno.test("pickUpdate() explains its decision", () => {
  type Row = [VersionPolicy, ToolchainPolicy, string, string, string[], RegExp];
  const rows: Row[] = [
    // The example of the issue.
    [
      "patch",
      "follow",
      "v1.0.0",
      "go1.23.2",
      ["v1.0.1"],
      /^patch release v1\.0\.1 of v1\.0\.x; toolchain follows to go1\.23\.3 with the new release$/,
    ],
    // Minor release.
    [
      "minor",
      "manual",
      "v1.0.0",
      "go1.23.2",
      ["v1.1.0"],
      /^minor release v1\.1\.0 of v1\.x; toolchain stays/,
    ],
    // Prerelease to release.
    [
      "patch",
      "manual",
      "v1.1.0-rc.1",
      "go1.23.2",
      ["v1.1.0"],
      /^release v1\.1\.0 of prerelease v1\.1\.0-rc\.1;/,
    ],
    // Policy manual.
    [
      "manual",
      "manual",
      "v1.0.0",
      "go1.23.2",
      ["v1.0.1"],
      /version policy manual: v1\.0\.1 is not installed/,
    ],
    // Patch policy and a minor release.
    [
      "patch",
      "manual",
      "v1.0.0",
      "go1.23.2",
      ["v1.1.0"],
      /v1\.1\.0 is newer, but version policy patch takes only v1\.0\.x/,
    ],
    // Nothing newer.
    ["patch", "manual", "v1.0.0", "go1.23.2", ["v1.0.0"], /^no newer version than v1\.0\.0;/],
    // No version of the major.
    ["patch", "manual", "v1.0.0", "go1.23.2", ["v2.0.0"], /^no version of major v1 listed/],
    // Unsupported toolchain.
    [
      "patch",
      "supported",
      "v1.0.0",
      "go1.21.1",
      [],
      /toolchain go1\.21 is no longer supported, moving to go1\.22\.9$/,
    ],
    // Only a prerelease is newer.
    [
      "patch",
      "manual",
      "v1.0.0",
      "go1.23.2",
      ["v1.0.1-rc.1"],
      /prereleases such as v1\.0\.1-rc\.1 are never installed/,
    ],
  ];
  for (const [version, toolchain, ref, refGo, versions, want] of rows) {
    const d = pickUpdate({ version: ref, goVersion: refGo }, { versions, toolchains: tc1 }, {
      version,
      toolchain,
    });
    assertMatch(d.reason, want);
  }
});

Deno.test("pickUpdate() does not decide for an unknown current version", () => {
  const d = pickUpdate({ version: "(devel)", goVersion: "go1.23.2" }, {
    versions: ["v1.0.0"],
    toolchains: tc1,
  }, { version: "minor", toolchain: "minor" });
  assertEquals([d.version, d.goVersion, d.update], ["(devel)", "go1.23.2", false]);
  assert(d.reason.includes('"(devel)" is not a module version'));
});

Deno.test("policiesFor() takes the service's or ysco's policies", () => {
  const config = {
    service: "minor",
    self: "manual",
    service_toolchain: "patch",
    self_toolchain: "follow",
  } as const;
  assertEquals(policiesFor(config, "svc"), { version: "minor", toolchain: "patch" });
  assertEquals(policiesFor(config, "self"), { version: "manual", toolchain: "follow" });
});

Deno.test("pickUpdate() reads a GOEXPERIMENT or vendor Go version as the release it is based on", () => {
  const tc: Toolchains = { prev: "go1.22.12", cur: "go1.23.7", next: "" };
  type Row = [string, ToolchainPolicy, string[], string, string, boolean, RegExp];
  const rows: Row[] = [
    // [running Go version, toolchain policy, versions, -> version, -> goversion, update, reason]
    [
      "go1.23.5 X:nocoverageredesign",
      "patch",
      [],
      "v1.0.0",
      "go1.23.7",
      true,
      /toolchain go1\.23\.5 X:nocoverageredesign counts as go1\.23\.5, the release it is based on; toolchain patch release go1\.23\.7 of go1\.23$/,
    ],
    [
      "go1.23.5 X:nocoverageredesign",
      "supported",
      [],
      "v1.0.0",
      "go1.23.7",
      true,
      /counts as go1\.23\.5.*; toolchain patch release go1\.23\.7 of go1\.23$/,
    ],
    [
      "go1.23.4-bigcorp",
      "follow",
      ["v1.0.1"],
      "v1.0.1",
      "go1.23.7",
      true,
      /toolchain follows to go1\.23\.7 with the new release$/,
    ],
    // The same release under manual: nothing to do, and no toolchain-only "update".
    [
      "go1.23.5 X:nocoverageredesign",
      "manual",
      [],
      "v1.0.0",
      "go1.23.5",
      false,
      /counts as go1\.23\.5.*; toolchain stays at go1\.23\.5 \(toolchain policy manual\)$/,
    ],
    // A new version keeps the release, a version gobuild can fetch.
    [
      "go1.23.5 X:nocoverageredesign",
      "manual",
      ["v1.0.1"],
      "v1.0.1",
      "go1.23.5",
      true,
      /^patch release v1\.0\.1 of v1\.0\.x; toolchain go1\.23\.5 X:nocoverageredesign counts as go1\.23\.5/,
    ],
    // No release in front: the running toolchain's release.
    [
      "devel go1.24-1a2b3c4 Tue Jan 7 10:00:00 2025 +0000",
      "patch",
      [],
      "v1.0.0",
      "devel go1.24-1a2b3c4 Tue Jan 7 10:00:00 2025 +0000",
      false,
      /toolchain stays at devel go1\.24-1a2b3c4 Tue Jan 7 10:00:00 2025 \+0000 \(not a release ysco can compare\)$/,
    ],
  ];
  for (const [goVersion, toolchain, versions, version, wantGo, update, reason] of rows) {
    const d = pickUpdate({ version: "v1.0.0", goVersion }, { versions, toolchains: tc }, {
      version: "patch",
      toolchain,
    });
    const name = `${goVersion} ${toolchain} [${versions}]`;
    assertEquals([d.version, d.goVersion, d.update], [version, wantGo, update], name);
    assertMatch(d.reason, reason, name);
  }
});

Deno.test("pickToolchain() names the release it compared with when the reference is newer", () => {
  const tc: Toolchains = { cur: "go1.24.4", prev: "go1.23.10", next: "" };
  type Row = [string, ToolchainPolicy, string];
  const rows: Row[] = [
    // The case: the go1.23 line's newest known release, not the newest Go.
    [
      "go1.23.11",
      "patch",
      "toolchain stays at go1.23.11 (newer than the newest known go1.23 release, go1.23.10)",
    ],
    [
      "go1.24.5",
      "supported",
      "toolchain stays at go1.24.5 (newer than the newest known go1.24 release, go1.24.4)",
    ],
    [
      "go1.25.1",
      "minor",
      "toolchain stays at go1.25.1 (newer than the newest known release, go1.24.4)",
    ],
    [
      "go1.25.1",
      "supported",
      "toolchain stays at go1.25.1 (newer than the newest known release, go1.24.4)",
    ],
  ];
  for (const [goVersion, policy, want] of rows) {
    const got = pickToolchain({ version: "v1.0.0", goVersion }, tc, policy);
    assertEquals(got, { goVersion, reason: want }, `${goVersion} ${policy}`);
  }
});

Deno.test("pickUpdate() quotes and cuts a hostile current version in its reason", () => {
  const version = "\x1b[2J" + "x".repeat(10_000) + "\n";
  const d = pickUpdate({ version, goVersion: "go1.23.2" }, {
    versions: ["v1.0.0"],
    toolchains: tc1,
  }, { version: "minor", toolchain: "minor" });
  assertMatch(d.reason, /^current version "\\x1b\[2Jx+"\.\.\. is not a module version/);
  assert(d.reason.length < 300 && !d.reason.includes("\n"), d.reason);
});
