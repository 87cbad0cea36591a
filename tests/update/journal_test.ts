import { assertEquals, assertThrows } from "../_assert.ts";
import type { InstallJournal, InstallPhase } from "../../src/state/state.ts";
import { advance, recover, type RecoveryFacts } from "../../src/update/journal.ts";

const journal = (phase: InstallPhase, reason?: string): InstallJournal => ({
  phase,
  time: "2026-12-01T10:00:00.000Z",
  manual: false,
  from: { version: "v1.0.0", goVersion: "go1.23.5", binary: "/srv/app-v1.0.0-go1.23.5" },
  to: { version: "v1.0.1", goVersion: "go1.23.5", binary: "/srv/app-v1.0.1-go1.23.5" },
  ...(reason ? { reason } : {}),
});

Deno.test("recover() decides what a start does with an interrupted install", () => {
  const intact: RecoveryFacts = { runs: "to", toProblem: undefined };
  const rows: Array<[InstallPhase, RecoveryFacts, string]> = [
    // Killed during the download: nothing was switched.
    ["downloading", { runs: "from", toProblem: undefined }, "abandon remove"],
    // Killed before the rename, or the rename was lost with the power.
    ["switched", { runs: "from", toProblem: undefined }, "abandon remove"],
    // Switched and intact, in any phase before the confirmation: watch it again.
    ["switched", intact, "rewatch"],
    ["started", intact, "rewatch"],
    ["watching", intact, "rewatch"],
    // The new binary went missing or was damaged: back to the previous one.
    ["started", { runs: "to", toProblem: "is missing" }, "rollback the new binary is missing"],
    // An operator pointed the service path elsewhere: leave it, and the files.
    ["watching", { runs: "other", toProblem: undefined }, "abandon keep"],
    // The rollback itself was interrupted: finish it, whatever runs.
    ["rolling back", intact, "rollback exited with status 3"],
  ];
  for (const [phase, facts, want] of rows) {
    const r = recover(journal(phase, "exited with status 3"), facts);
    const got = r.action === "abandon"
      ? `abandon ${r.removeTo ? "remove" : "keep"}`
      : r.action === "rollback"
      ? `rollback ${r.reason}`
      : r.action;
    assertEquals(got, want, `${phase} ${JSON.stringify(facts)}`);
  }
});

Deno.test("advance() follows the phases in order and refuses to skip back", () => {
  const j = advance(advance(journal("downloading"), "switched"), "started", {
    process: { pid: 42, start: "boot/1" },
  });
  assertEquals([j.phase, j.process?.pid], ["started", 42]);
  assertEquals(advance(j, "rolling back", { reason: "r" }).reason, "r");
  assertThrows(() => advance(j, "downloading"), RangeError);
  assertThrows(() => advance(journal("downloading"), "started"), RangeError);
});
