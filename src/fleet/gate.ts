/**
 * The interface the update cycle calls to coordinate with the rest of its fleet. Two
 * backends implement it: etcd (slots, canaries, soak, halts and host states; see
 * etcd_gate.ts) and FleetLock (a counting semaphore on a FleetLock server; see
 * fleetlock.ts).
 *
 * The order of calls, for one update of the service to `target`:
 *
 * 1. `report(state)` whenever the running version or its health changes (at start,
 *    after every health check that changes the answer, after an install or
 *    rollback). The gate publishes it and runs the canary soak timer from it.
 * 2. `acquire(target, { signal })` once the update is due (after policy, schedule and
 *    delay), before anything is downloaded or installed. It waits as long as needed:
 *    for canaries to soak, for a halt to be resumed, for a free slot, and while etcd
 *    is unreachable (fail closed). Abort the signal to give up (a newer target, or
 *    shutdown).
 * 3. Then exactly one of, on the returned slot:
 *    - `slot.release()`: the new version is up and passed its health check;
 *    - `slot.rollback(reason)`: the new version failed and the old one was put back;
 *      halts the target for the whole group (in one transaction with the host's
 *      state, so a `paused` reported meanwhile is published with the halt, never
 *      before it);
 *    - `slot.abandon(error)`: nothing was changed (download or verification failed).
 *    Watch `slot.signal`: it aborts when the slot was lost (the host's lease expired
 *    while etcd was unreachable); the update cycle should then not restart into the
 *    new version unless it wants to exceed max_concurrent.
 * 4. `close()` at shutdown (or `await using`).
 *
 * The etcd backend also serves the operator's view of the whole group (`readGroup`)
 * and lifts halts (`resume`), for the admin page; FleetLock servers keep no such
 * state, so those methods are absent there.
 *
 * @module
 */

import type { Release } from "../state/state.ts";
import type { Halt } from "./layout.ts";
import type { FleetStatus } from "./status.ts";
import type { AlertsStatus } from "./alert_watch.ts";

/** What the update cycle reports about the running service. */
export interface HostReport {
  /** Module version running now. */
  version: string;
  /** Go version of the running binary. */
  goVersion: string;
  /** Whether the service passes its health check. */
  healthy: boolean;
  /** The last update error, shown in `ysco fleet status`; "" clears it, absent keeps it. */
  lastError?: string;
  /**
   * Whether automatic updates are paused on this host (after a rollback, or by an
   * operator): a paused host is passed over as a canary, so that it cannot hold up the
   * group. Absent keeps the last value.
   */
  paused?: boolean;
}

/** Options for FleetGate.acquire. */
export interface AcquireOptions {
  /** Stops waiting; acquire then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Permission to install one target; settle it with exactly one of its methods. */
export interface FleetSlot {
  readonly target: Release;
  /** Aborted when the slot was lost before it was settled. */
  readonly signal: AbortSignal;
  /** The new version is up and healthy: frees the slot. */
  release(): Promise<void>;
  /**
   * The update failed and was rolled back: halts the target for the group (no other
   * host installs it until an operator resumes) and frees the slot.
   */
  rollback(reason: string): Promise<void>;
  /** The update was abandoned before anything changed: frees the slot, no halt. */
  abandon(error: string): Promise<void>;
}

/** What a gate is doing, for the status page and metrics. */
export interface GateStatus {
  backend: "etcd" | "fleetlock";
  id: string;
  group: string;
  /**
   * Whether coordination works: for etcd, a request that needed the quorum (a
   * linearizable read or a write) succeeded after the last failure; for FleetLock,
   * the last request succeeded.
   */
  connected: boolean;
  /** The coordination error since the last success (fail closed: nothing installs). */
  error?: { message: string; since: Date };
  /** A target waiting for permission, and why; `halt` when a rollback halted it. */
  waiting?: Release & { since: Date; reason: string; halt?: Halt };
  /** The target holding a slot. */
  holding?: Release & { since: Date };
  /**
   * The alert gate (`fleet.alerts_url`), when configured: while a matching alert fires
   * or the alerts cannot be queried, no slot is taken.
   */
  alerts?: AlertsStatus;
  /** Counters since the gate was opened. */
  counters: GateCounters;
}

/** Counters of a gate, for metrics. */
export interface GateCounters {
  /** Slots taken. */
  slots: number;
  /** Total time spent waiting for slots (ms), including waits in progress. */
  waitMs: number;
  /** Rollbacks that halted a target. */
  halts: number;
  /** Targets this host halted because an alert fired during its canary soak. */
  alertHalts: number;
  /** Requests that failed. */
  errors: number;
  /** Requests sent to etcd or the FleetLock server. */
  requests: number;
}

/** The fleet coordination seen by the update cycle. */
export interface FleetGate extends AsyncDisposable {
  readonly id: string;
  readonly group: string;
  /** Publishes the running version and health (coalesced; never throws). */
  report(state: HostReport): void;
  /**
   * Waits for permission to install target.
   * @throws the signal's reason when aborted; an Error when a slot is already held
   */
  acquire(target: Release, options?: AcquireOptions): Promise<FleetSlot>;
  /** A snapshot of what the gate is doing. */
  status(): GateStatus;
  /**
   * The whole group as the coordination store holds it: hosts, slots, canaries,
   * halts (etcd only; may lag a moment behind, but answers without a quorum).
   */
  readGroup?(): Promise<FleetStatus>;
  /**
   * Lifts the halts of version ("v1.2.3" or "v1.2.3 go1.23.4"), or of every halted
   * version when absent, and returns them (etcd only).
   */
  resume?(version?: string): Promise<Halt[]>;
  /** Stops background work and withdraws the host (its lease is revoked). */
  close(): Promise<void>;
}

/** Counters at zero, for a new gate. */
export function zeroCounters(): GateCounters {
  return { slots: 0, waitMs: 0, halts: 0, alertHalts: 0, errors: 0, requests: 0 };
}

/**
 * The counters as status() reports them: the wait in progress (started at waitStart,
 * performance.now() time) counts in waitMs, and requests is the backend's own count.
 */
export function liveCounters(
  counters: GateCounters,
  waitStart: number | undefined,
  requests: number,
): GateCounters {
  const waiting = waitStart === undefined ? 0 : performance.now() - waitStart;
  return { ...counters, waitMs: counters.waitMs + waiting, requests };
}
