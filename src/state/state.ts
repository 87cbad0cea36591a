/**
 * ysco's durable state, `<dir>/state.json`: pause reason, scheduled updates, backoff,
 * previous binaries and the update history.
 *
 * Written atomically and durably (temporary file in the same directory, fsync,
 * rename, fsync of the directory), so a crash at any moment leaves the old or the
 * new state. A corrupt file is reported, never silently replaced.
 *
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "./atomic_file.ts";
import { errorMessage } from "../errors.ts";

/** Which program an update is for: the managed service or ysco itself. */
export type Which = "svc" | "self";

/** A module version built with a toolchain. */
export interface Release {
  version: string;
  goVersion: string;
}

/** An update planned for a time. */
export interface ScheduledUpdate extends Release {
  /** Earliest time to install (ISO 8601), before backoff and jitter. */
  time: string;
  which: Which;
  modPath: string;
  /** Package directory in the module: "/" or "/cmd/x". */
  pkgDir: string;
  /** When the update was discovered (ISO 8601). */
  discovered?: string;
}

/** How an update ended. */
export type Outcome = "installed" | "rolled back" | "failed" | "cancelled";

/** One update in the history. */
export interface HistoryEntry {
  /** When it ended (ISO 8601). */
  time: string;
  which: Which;
  from: Release;
  to: Release;
  outcome: Outcome;
  /** Why it failed, was rolled back or was cancelled. */
  reason?: string;
  /** Requested by an operator (admin page or API), not by the schedule. */
  manual: boolean;
}

/** The persisted state. */
export interface State {
  /** Non-empty: automatic updates are paused, for this reason (a rollback, or an operator). */
  pauseReason: string;
  /** Pending updates, sorted by time. */
  scheduled: ScheduledUpdate[];
  /** Consecutive failed scheduled updates; the next waits 1h x 2^(backoff-1), at most 7 days. */
  backoff: number;
  backoffReason: string;
  /** Absolute path of the service binary before the last update, for rollback; "" when none. */
  previousBinarySvc: string;
  /** Absolute path of ysco's binary before its last update; "" when none. */
  previousBinarySelf: string;
  /** Finished updates, oldest first, at most HISTORY_LIMIT. */
  history: HistoryEntry[];
  /** The newest release feed of ysco seen: a feed older than this is refused. */
  selfFeed?: { time: string; newest: string };
  /**
   * The journal of a self-update between the exec and the new version's
   * confirmation (see docs/design.md, "The update transaction").
   */
  selfUpdate?: PendingSelfUpdate | undefined;
  /**
   * The journal of a service update in progress: written before every step that
   * cannot be taken back, removed in the same write that records its outcome. Found
   * at a start, it is recovered (src/update/recovery.ts).
   */
  install?: InstallJournal | undefined;
  /** The service process last started, to find it after ysco itself was killed. */
  service?: ProcessMark | undefined;
}

/** A self-update between the exec and the new version's confirmation. */
export interface PendingSelfUpdate {
  from: { version: string; path: string };
  to: { version: string; path: string };
  /** When the exec happened (ISO 8601). */
  time: string;
  manual: boolean;
  /**
   * "exec": written by the old process right before it replaces itself; "up": written
   * by the new process as soon as it runs. A start of the old version that finds
   * "exec" knows the new one never came up; "up" means it was stopped before it
   * confirmed (not a failure of the release). Missing in older state files: "exec".
   */
  phase?: "exec" | "up";
}

/** A process, told apart from a later one with the same pid. */
export interface ProcessMark {
  pid: number;
  /** The kernel's start time of the process and the boot it ran in; "" when unknown. */
  start: string;
}

/** The phases of a service update, in order; see docs/design.md. */
export type InstallPhase = "downloading" | "switched" | "started" | "watching" | "rolling back";

/** A binary of an install: the release, and the file that holds it. */
export interface InstallBinary extends Release {
  /** Absolute path. */
  binary: string;
}

/** The journal of a service update. */
export interface InstallJournal {
  phase: InstallPhase;
  /** When the update began (ISO 8601). */
  time: string;
  manual: boolean;
  /** What ran before: the binary a rollback returns to. */
  from: InstallBinary;
  /** What is installed: from "switched" on, with the size and SHA-256 it was verified with. */
  to: InstallBinary & { size?: number; sha256?: string };
  /** From "started" on: the new version's process. */
  process?: ProcessMark;
  /** "watching": until when the new version is watched (ISO 8601). */
  watchUntil?: string;
  /** "rolling back": why. */
  reason?: string;
}

/** How many history entries are kept. */
export const HISTORY_LIMIT = 100;

const FORMAT_VERSION = 1;
const INSTALL_PHASES: readonly InstallPhase[] = [
  "downloading",
  "switched",
  "started",
  "watching",
  "rolling back",
];
const FILE = "state.json";

/** A state file that cannot be read or is not a valid state. */
export class StateError extends Error {
  /**
   * @param message what is wrong, naming the file
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StateError";
  }
}

/** The state of a fresh installation. */
export function emptyState(): State {
  return {
    pauseReason: "",
    scheduled: [],
    backoff: 0,
    backoffReason: "",
    previousBinarySvc: "",
    previousBinarySelf: "",
    history: [],
  };
}

/** Path of the state file in dir. */
export function statePath(dir: string): string {
  return join(dir, FILE);
}

/**
 * Reads the state in dir; a missing file is the empty state.
 * @throws StateError for an unreadable or corrupt file
 */
export async function readState(dir: string): Promise<State> {
  const path = statePath(dir);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return emptyState();
    throw new StateError(`Cannot read state file ${path}: ${errorMessage(err)}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StateError(
      `Cannot parse state file ${path}: ${
        errorMessage(err)
      }; fix or move it away (ysco never overwrites a corrupt state)`,
      { cause: err },
    );
  }
  const problem = checkState(json);
  if (problem !== undefined) {
    throw new StateError(
      `Cannot use state file ${path}: ${problem}; fix or move it away (ysco never overwrites a corrupt state)`,
    );
  }
  const { version: _, ...state } = json as State & { version: number };
  return state;
}

/**
 * Writes the state to dir atomically and durably.
 * @throws StateError when it cannot be written (the old state is then intact)
 */
export async function writeState(dir: string, state: State): Promise<void> {
  const path = statePath(dir);
  try {
    await writeFileAtomic(
      path,
      JSON.stringify({ version: FORMAT_VERSION, ...state }, null, "\t") + "\n",
    );
  } catch (err) {
    throw new StateError(`Cannot write state file ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Adds an entry to the history, dropping the oldest beyond HISTORY_LIMIT. */
export function withHistory(state: State, entry: HistoryEntry): State {
  return { ...state, history: [...state.history, entry].slice(-HISTORY_LIMIT) };
}

/** Returns a description of what is wrong with a parsed state file, or undefined. */
function checkState(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "not a JSON object";
  const s = json as Record<string, unknown>;
  if (s.version !== FORMAT_VERSION) return `unknown format version ${JSON.stringify(s.version)}`;
  for (const key of ["pauseReason", "backoffReason", "previousBinarySvc", "previousBinarySelf"]) {
    if (typeof s[key] !== "string") return `"${key}" must be a string`;
  }
  if (typeof s.backoff !== "number" || !Number.isInteger(s.backoff) || s.backoff < 0) {
    return `"backoff" must be a non-negative integer`;
  }
  if (!Array.isArray(s.scheduled)) return `"scheduled" must be an array`;
  for (const [i, u] of s.scheduled.entries()) {
    const problem = checkFields(u, ["time", "which", "modPath", "pkgDir", "version", "goVersion"]);
    if (problem) return `scheduled update ${i + 1}: ${problem}`;
    if (Number.isNaN(Date.parse((u as ScheduledUpdate).time))) {
      return `scheduled update ${i + 1}: bad time`;
    }
  }
  if (!Array.isArray(s.history)) return `"history" must be an array`;
  if (s.selfFeed !== undefined) {
    const problem = checkFields(s.selfFeed, ["time", "newest"]);
    if (problem) return `"selfFeed": ${problem}`;
  }
  if (s.selfUpdate !== undefined) {
    const u = s.selfUpdate as Record<string, unknown>;
    const problem = checkFields(u, ["time"]) ?? checkFields(u.from, ["version", "path"]) ??
      checkFields(u.to, ["version", "path"]);
    if (problem) return `"selfUpdate": ${problem}`;
  }
  if (s.install !== undefined) {
    const j = s.install as Record<string, unknown>;
    const problem = checkFields(j, ["phase", "time"]) ??
      checkFields(j.from, ["version", "goVersion", "binary"]) ??
      checkFields(j.to, ["version", "goVersion", "binary"]);
    if (problem) return `"install": ${problem}`;
    if (!INSTALL_PHASES.includes(j.phase as InstallPhase)) {
      return `"install": unknown phase ${JSON.stringify(j.phase)}`;
    }
  }
  if (s.service !== undefined) {
    const m = s.service as Record<string, unknown>;
    if (typeof m !== "object" || m === null || typeof m.pid !== "number") {
      return `"service": "pid" must be a number`;
    }
  }
  for (const [i, h] of s.history.entries()) {
    const problem = checkFields(h, ["time", "which", "outcome"]);
    if (problem) return `history entry ${i + 1}: ${problem}`;
  }
  return undefined;
}

function checkFields(value: unknown, keys: string[]): string | undefined {
  if (typeof value !== "object" || value === null) return "not an object";
  const v = value as Record<string, unknown>;
  for (const key of keys) if (typeof v[key] !== "string") return `"${key}" must be a string`;
  if (v.which !== undefined && v.which !== "svc" && v.which !== "self") {
    return `"which" must be "svc" or "self"`;
  }
  return undefined;
}
