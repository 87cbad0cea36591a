/**
 * The state as the update cycle holds it: one copy in memory that every part reads
 * and replaces, and writes of it to `state.json` that never overlap. A write that
 * fails is reported to the caller, which decides: before an irreversible step the
 * step is not taken; after it, the failure is logged and counted, and the outcome
 * says so.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Counter } from "../metrics/registry.ts";
import { type State, writeState } from "../state/state.ts";
import { sortScheduled } from "../decide/timing.ts";

/** Options for StateStore. */
export interface StateStoreOptions {
  /** The ys directory. */
  dir: string;
  log: Logger;
  /** Counts failed writes. */
  writeErrors?: Counter;
  /** The writer. @default writeState */
  write?: (dir: string, state: State) => Promise<void>;
}

/** The state in memory and on disk. */
export class StateStore {
  #o: StateStoreOptions;
  #state: State;
  #saving: Promise<unknown> = Promise.resolve();

  /**
   * @param state the state read at start
   * @param options where it is written
   */
  constructor(state: State, options: StateStoreOptions) {
    this.#state = state;
    this.#o = options;
  }

  /** The state in memory. */
  get state(): State {
    return this.#state;
  }

  /** Replaces the state in memory (not written). */
  set(state: State): void {
    this.#state = state;
  }

  /**
   * Replaces the state (when given) and writes it; writes never overlap, and each
   * writes the state of its moment.
   * @throws StateError when it cannot be written; the file then holds the last state written
   */
  commit(state?: State): Promise<void> {
    if (state !== undefined) this.#state = state;
    const write = this.#saving.catch(() => {}).then(async () => {
      const s = this.#state;
      try {
        await (this.#o.write ?? writeState)(this.#o.dir, {
          ...s,
          scheduled: sortScheduled(s.scheduled),
        });
      } catch (err) {
        this.#o.writeErrors?.inc();
        throw err;
      }
    });
    this.#saving = write;
    return write;
  }

  /** Like commit, for writes that may fail without consequence: a failure is logged and counted. */
  async save(state?: State): Promise<void> {
    try {
      await this.commit(state);
    } catch (err) {
      this.#o.log.error("cannot write state", { err: errorMessage(err) });
    }
  }
}
