/**
 * The update transaction's journal as a state machine: the phases a service update
 * passes through, each written (and fsynced) to the state before the step it
 * announces, and what a start of ysco does with a journal it finds, which means
 * that the previous ysco ended in the middle of an update.
 *
 *   downloading --> switched --> started --> watching --> (confirmed)
 *                                   |           |
 *                                   +-----------+--> rolling back --> (rolled back)
 *
 * "confirmed" and "rolled back" are not phases: the write that records the outcome
 * in the history removes the journal. See docs/design.md, "The update transaction".
 *
 * Pure functions, no I/O: src/update/recovery.ts gathers the facts.
 *
 * @module
 */

import type { InstallJournal, InstallPhase } from "../state/state.ts";

/** Phases a phase may be followed by. */
const NEXT: Record<InstallPhase, readonly InstallPhase[]> = {
  downloading: ["switched"],
  switched: ["started", "rolling back"],
  started: ["watching", "rolling back"],
  watching: ["rolling back"],
  "rolling back": [],
};

/**
 * The journal in its next phase.
 * @throws RangeError for a transition the state machine does not have (a bug)
 */
export function advance(
  journal: InstallJournal,
  phase: InstallPhase,
  fields: Partial<Omit<InstallJournal, "phase">> = {},
): InstallJournal {
  if (!NEXT[journal.phase].includes(phase)) {
    throw new RangeError(
      `Cannot advance the install journal from "${journal.phase}" to "${phase}"`,
    );
  }
  return { ...journal, ...fields, phase };
}

/** What recovery found on disk about an interrupted install. */
export interface RecoveryFacts {
  /** What the service path runs now: the journal's previous binary, its new one, or another. */
  runs: "from" | "to" | "other";
  /** Why the new binary cannot run (missing, other size or SHA-256); undefined when intact. */
  toProblem: string | undefined;
}

/** What a start of ysco does with the journal it found. */
export type Recovery =
  | {
    /** The switch did not happen: the update ends as cancelled and the service runs as it was. */
    action: "abandon";
    reason: string;
    /** Remove the new binary (never the one the service path runs). */
    removeTo: boolean;
  }
  | {
    /** The new version is installed and intact but was never confirmed: start it and watch it again. */
    action: "rewatch";
  }
  | {
    /** Switch back to the previous binary, pause automatic updates and record a rollback. */
    action: "rollback";
    reason: string;
  };

/** Decides what to do with an interrupted install. */
export function recover(journal: InstallJournal, facts: RecoveryFacts): Recovery {
  switch (journal.phase) {
    case "downloading":
      return {
        action: "abandon",
        reason: "ysco ended during the download (a crash, a kill or a reboot)",
        removeTo: facts.runs !== "to",
      };
    case "rolling back":
      return { action: "rollback", reason: journal.reason ?? "the rollback was interrupted" };
    case "switched":
    case "started":
    case "watching":
      if (facts.runs === "from") {
        return {
          action: "abandon",
          reason: "ysco ended before the new version was switched to",
          removeTo: true,
        };
      }
      if (facts.runs === "other") {
        return {
          action: "abandon",
          reason: "the service path was changed by hand during the update",
          removeTo: false,
        };
      }
      if (facts.toProblem !== undefined) {
        return { action: "rollback", reason: `the new binary ${facts.toProblem}` };
      }
      return { action: "rewatch" };
  }
}

/** The text of a phase for the status page. */
export function describePhase(journal: InstallJournal): string {
  switch (journal.phase) {
    case "downloading":
      return "downloading";
    case "switched":
      return "restarting";
    case "started":
      return "checking health";
    case "watching":
      return journal.watchUntil ? `soaking until ${journal.watchUntil}` : "soaking";
    case "rolling back":
      return "rolling back";
  }
}
