/**
 * The writes of a service update: the state before an irreversible step (a failure
 * fails the update) and after one (a failure is logged, counted and reported with the
 * outcome), the history of an update that did not install, and the removal of what
 * it made.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import { type State, withHistory } from "../state/state.ts";
import { type PreparedSwitch, removeOldBinary } from "./install.ts";
import type { InstallJournal } from "../state/state.ts";
import { type TransactionOptions, UpdateEnd } from "./transaction_deps.ts";
import { historyEntry, type UpdateRequest, type UpdateResult } from "./types.ts";

/** The writes of one transaction. */
export class InstallWrites {
  #o: TransactionOptions;
  /** A write after an irreversible step that failed, reported with the outcome. */
  #stateError: string | undefined;

  /** @param options what the transaction works with */
  constructor(options: TransactionOptions) {
    this.#o = options;
  }

  /** Takes back what a prepared install made: nothing of it is left. */
  async undo(prepared: PreparedSwitch, journal: InstallJournal): Promise<void> {
    await prepared.abort();
    await this.removeUnused(journal.to.binary);
  }

  /** Removes a binary this update wrote, unless the service path or the state still names it. */
  async removeUnused(path: string): Promise<void> {
    const o = this.#o;
    const s = o.store.state;
    const keep = [s.previousBinarySvc, s.install?.from.binary ?? ""].filter((p) => p !== "");
    try {
      if (await removeOldBinary(path, o.cmdAbs, keep)) {
        o.log.info("removed the binary of an update that did not install", { path });
      }
    } catch (err) {
      o.log.warn("cannot remove a binary of an update that did not install", {
        path,
        err: errorMessage(err),
      });
    }
  }

  /**
   * Writes the state before an irreversible step.
   * @throws UpdateEnd "failed" when it cannot be written: the step must not be taken
   */
  async commitBefore(state: State): Promise<void> {
    try {
      await this.#o.store.commit(state);
    } catch (err) {
      this.#o.store.set({ ...this.#o.store.state, install: undefined });
      throw new UpdateEnd("failed", errorMessage(err));
    }
  }

  /** Writes the state after an irreversible step: a failure is logged and reported with the outcome. */
  async commitAfter(state: State): Promise<void> {
    try {
      await this.#o.store.commit(state);
    } catch (err) {
      this.#stateError = errorMessage(err);
      this.#o.log.error("cannot write state", { err: this.#stateError });
    }
  }

  /** The failed write after an irreversible step, once, for the outcome. */
  stateErrorOf(): { stateError?: string } {
    const e = this.#stateError;
    this.#stateError = undefined;
    return e === undefined ? {} : { stateError: e };
  }

  /** Records the end of an update that did not install (history, metrics). */
  async record(result: UpdateResult, request: UpdateRequest): Promise<void> {
    const o = this.#o;
    o.metrics.updates.inc({ which: "svc", outcome: result.outcome });
    await this.commitAfter(
      withHistory(o.store.state, historyEntry(result, request, o.clock.now())),
    );
    Object.assign(result, this.stateErrorOf());
  }

  /** Tells the fleet the running release and its health. */
  report(healthy: boolean, lastError = ""): void {
    const info = this.#o.running.info;
    this.#o.gate?.report({
      version: info.version,
      goVersion: info.goVersion,
      healthy,
      lastError,
      paused: this.#o.store.state.pauseReason !== "",
    });
  }
}
