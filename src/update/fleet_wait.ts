/**
 * The wait for a fleet slot before an update: given up when its update is no longer
 * wanted (see check()), and at once when ysco ends.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import type { FleetGate, FleetSlot } from "../fleet/gate.ts";
import type { Release, State } from "../state/state.ts";
import { type TransactionOptions, UpdateEnd } from "./transaction_deps.ts";
import type { UpdateRequest } from "./types.ts";

/** At most one wait for a fleet slot. */
export class FleetWait {
  /** The wait in progress; aborted when its update is no longer wanted. */
  #wait: { abort: AbortController; request: UpdateRequest } | undefined;

  /**
   * Waits for a fleet slot for the update to `to`.
   * @throws UpdateEnd "cancelled" (without backoff) when the wait was given up
   */
  async acquire(
    gate: FleetGate,
    request: UpdateRequest,
    to: Release,
    o: TransactionOptions,
  ): Promise<FleetSlot> {
    o.phase("waiting for a fleet slot");
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, o.signal]);
    this.#wait = { abort, request };
    try {
      return await gate.acquire(to, { signal });
    } catch (err) {
      if (!signal.aborted) throw err;
      const why = errorMessage(signal.reason);
      throw new UpdateEnd("cancelled", `waiting for a fleet slot: ${why}`, { backoff: false });
    } finally {
      this.#wait = undefined;
    }
  }

  /**
   * Gives up a wait for a fleet slot when its update is no longer wanted: a scheduled
   * update that left the schedule (a newer version replaced it, or an operator
   * cancelled it), or when automatic updates were paused. Manual updates wait until
   * they get their slot or ysco stops.
   */
  check(state: State): void {
    const wait = this.#wait;
    if (wait === undefined || wait.request.manual) return;
    const r = wait.request;
    const scheduled = state.scheduled.some((u) =>
      u.which === r.which && u.version === r.version && u.goVersion === r.goVersion
    );
    if (state.pauseReason !== "") {
      wait.abort.abort(new Error("automatic updates were paused"));
    } else if (!scheduled) {
      wait.abort.abort(
        new Error("no longer scheduled (replaced by a newer version, or cancelled)"),
      );
    }
  }
}
