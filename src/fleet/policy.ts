/**
 * The rules of a staged rollout, as pure functions over what a host read from etcd:
 * which hosts are canaries, whether a host may queue for a slot for a target, and
 * which queued hosts hold the slots.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import type { Release } from "../state/state.ts";
import { compareGoVersion } from "../version/goversion.ts";
import { compareSemver } from "../version/semver.ts";
import type { Halt, HostState } from "./layout.ts";

/**
 * Hosts in canary order: by a stable hash of the id (32-bit FNV-1a), ties by id. The
 * order depends only on the ids, so every host computes the same canaries from the
 * same membership, and the canaries are spread over the fleet rather than being the
 * alphabetically first hosts.
 */
export function canaryOrder(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort((a, b) => fnv1a(a) - fnv1a(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The canaries among the registered hosts: the first `count` in canary order. */
export function canaries(ids: readonly string[], count: number): string[] {
  return canaryOrder(ids).slice(0, Math.max(0, count));
}

/** What a host read about a target. */
export interface TargetView {
  /**
   * Ids of the hosts that may be canaries: registered in the group now, with
   * automatic updates not paused (see canaryCandidates). The deciding host counts
   * itself in.
   */
  hostIds: readonly string[];
  /** The target's halt, if a rollback stopped it. */
  halt?: Halt;
  /** How many hosts reported the target healthy for the soak time. */
  soaked: number;
}

/** Whether a host may queue for a slot to install a target, and if not, why. */
export type Admission =
  | { kind: "go"; canary: boolean }
  | { kind: "halted"; halt: Halt }
  | { kind: "canaries"; canaries: string[]; soaked: number; needed: number };

/**
 * Decides whether host `id` may queue for a slot for a target: never while the target
 * is halted; canaries at once; the others once `canaryCount` hosts have reported the
 * target healthy for the soak time. With canaryCount 0 every host may go.
 */
export function admit(view: TargetView, id: string, canaryCount: number): Admission {
  if (view.halt !== undefined) return { kind: "halted", halt: view.halt };
  if (canaryCount <= 0 || view.soaked >= canaryCount) return { kind: "go", canary: false };
  const chosen = canaries([...view.hostIds, id], canaryCount);
  if (chosen.includes(id)) return { kind: "go", canary: true };
  return { kind: "canaries", canaries: chosen, soaked: view.soaked, needed: canaryCount };
}

/** A queued host: its id and the create revision of its queue key. */
export interface Queued {
  id: string;
  createRevision: number;
}

/** The queue in order: by create revision (first come, first served). */
export function queueOrder<T extends Queued>(queue: readonly T[]): T[] {
  return [...queue].sort((a, b) => a.createRevision - b.createRevision);
}

/** The queued hosts that hold the slots: the first `max` in queue order. */
export function slotHolders<T extends Queued>(queue: readonly T[], max: number): T[] {
  return queueOrder(queue).slice(0, Math.max(0, max));
}

/** Why a canary that ran a target for the soak time writes a soak mark for it, or not. */
export type SoakVerdict =
  /** Write the mark: this host is a canary and the group waits for the target. */
  | "mark"
  /** Another host is the canary now: give up (a new canary soaks its own install). */
  | "not canary"
  /** Enough canaries marked it already. */
  | "enough marks"
  /** No other host runs an older release or waits for it: look again later. */
  | "no rollout";

/**
 * Whether host `id`, running `target` healthily for the soak time, writes its soak
 * mark (and whether an alert during its soak halts the target): only as one of the
 * canaries among the hosts whose updates are not paused, while fewer than
 * `canaryCount` marks exist, and only during a rollout of the target, that is while
 * another registered host runs an older release (lower version, or the same version
 * built with an older Go) or waits for it. A group that merely started on a version
 * gets no mark for it.
 */
export function soakVerdict(
  target: Release,
  id: string,
  hosts: readonly HostState[],
  marks: number,
  canaryCount: number,
): SoakVerdict {
  const candidates = hosts.filter((h) => !h.paused && h.id !== id).map((h) => h.id);
  if (!canaries([...candidates, id], canaryCount).includes(id)) return "not canary";
  if (marks >= canaryCount) return "enough marks";
  const rollout = hosts.some((h) =>
    h.id !== id && (olderRelease(h, target) ||
      (h.waiting?.version === target.version && h.waiting.goVersion === target.goVersion))
  );
  return rollout ? "mark" : "no rollout";
}

/** Whether a host runs a release older than target; a host that reported none is not. */
export function olderRelease(host: Release, target: Release): boolean {
  if (host.version === "" || host.goVersion === "") return false;
  const byVersion = compareSemver(host.version, target.version);
  return byVersion < 0 ||
    (byVersion === 0 && compareGoVersion(host.goVersion, target.goVersion) < 0);
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
