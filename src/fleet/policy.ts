/**
 * The rules of a staged rollout, as pure functions over what a host read from etcd:
 * which hosts are canaries, whether a host may queue for a slot for a target, and
 * which queued hosts hold the slots.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import type { Halt } from "./layout.ts";

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

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
