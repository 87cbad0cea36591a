/**
 * Watches Prometheus or Alertmanager for matching firing alerts, for the fleet gates:
 * a query every interval, the last answer kept for status() and metrics, listeners
 * told after each query, and waiters woken. A failed query makes the state "unknown",
 * which the gates treat like a firing alert (fail closed): no slot is taken and a
 * canary's soak does not count.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type AlertApi, type AlertSource, describeAlert, type FiringAlert } from "./alerts.ts";
import { formatMatchers } from "./matchers.ts";

/** What the last query found. */
export interface AlertState {
  /** clear: none fires; firing: some do; unknown: the query failed (or none yet). */
  state: "clear" | "firing" | "unknown";
  firing: FiringAlert[];
  /** Why the last query failed. */
  error?: string;
  /** When the last query was answered (or failed). */
  checkedAt?: Date;
  /** Since when the state is what it is. */
  since: Date;
}

/** The alert gate as status() shows it. */
export interface AlertsStatus extends AlertState {
  url: string;
  /** The matchers, in canonical form; "{}" matches every alert. */
  match: string;
  /** Which API answered: Prometheus or Alertmanager. */
  api?: AlertApi;
  /** Queries sent, and how many failed. */
  queries: number;
  failures: number;
}

/** Options for AlertWatch. */
export interface AlertWatchOptions {
  /** Time between queries (ms). */
  interval: number;
  logger?: Logger;
  /** @default () => new Date() */
  now?: () => Date;
}

/** Polls an AlertSource; start() begins, close() ends. */
export class AlertWatch {
  readonly #source: AlertSource;
  readonly #interval: number;
  readonly #log: Logger | undefined;
  readonly #now: () => Date;
  readonly #closing = new AbortController();
  readonly #listeners = new Set<(state: AlertState) => void>();
  #state: AlertState;
  #failures = 0;
  #loop: Promise<void> | undefined;
  #next = Promise.withResolvers<void>();
  #wake: (() => void) | undefined;

  /** @param source where to query */
  constructor(source: AlertSource, options: AlertWatchOptions) {
    this.#source = source;
    this.#interval = options.interval;
    this.#log = options.logger;
    this.#now = options.now ?? (() => new Date());
    this.#state = { state: "unknown", firing: [], error: "not queried yet", since: this.#now() };
  }

  /** The last answer. */
  get state(): AlertState {
    return this.#state;
  }

  /** A snapshot for status pages. */
  status(): AlertsStatus {
    return {
      ...this.#state,
      firing: [...this.#state.firing],
      url: this.#source.url,
      match: formatMatchers(this.#source.matchers),
      ...(this.#source.api ? { api: this.#source.api } : {}),
      queries: this.#source.requests,
      failures: this.#failures,
    };
  }

  /** Calls listener after every query; returns a function that stops it. */
  onChange(listener: (state: AlertState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts polling (the first query at once). */
  start(): void {
    this.#loop ??= this.#poll();
  }

  /**
   * Queries now and returns the new state; never throws for a failed query (the
   * state is "unknown" then).
   * @throws the signal's reason when aborted
   */
  async check(signal?: AbortSignal): Promise<AlertState> {
    const stop = signal ? AbortSignal.any([signal, this.#closing.signal]) : this.#closing.signal;
    let next: AlertState;
    try {
      const firing = await this.#source.firing(stop);
      next = firing.length > 0
        ? { state: "firing", firing, since: this.#since("firing"), checkedAt: this.#now() }
        : { state: "clear", firing: [], since: this.#since("clear"), checkedAt: this.#now() };
    } catch (err) {
      stop.throwIfAborted();
      this.#failures++;
      next = {
        state: "unknown",
        firing: [],
        error: errorMessage(err),
        since: this.#since("unknown"),
        checkedAt: this.#now(),
      };
    }
    this.#set(next);
    return next;
  }

  /** Resolves after the next query, or rejects with the signal's reason. */
  async next(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { promise, reject } = Promise.withResolvers<never>();
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await Promise.race([this.#next.promise, promise]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Stops polling. */
  async close(): Promise<void> {
    this.#closing.abort(new Error("Cannot watch alerts: closed"));
    this.#wake?.();
    await this.#loop;
  }

  #since(state: AlertState["state"]): Date {
    return this.#state.state === state ? this.#state.since : this.#now();
  }

  #set(next: AlertState): void {
    const prev = this.#state;
    this.#state = next;
    const names = (s: AlertState) => s.firing.map(describeAlert).join(", ");
    if (prev.state !== next.state || names(prev) !== names(next)) {
      if (next.state === "firing") {
        this.#log?.warn("fleet alerts firing; no fleet slot is taken", { alerts: names(next) });
      } else if (next.state === "unknown") {
        this.#log?.warn("cannot query fleet alerts; no fleet slot is taken until it answers", {
          err: next.error,
        });
      } else if (prev.checkedAt !== undefined) {
        this.#log?.info("fleet alerts clear");
      }
    }
    const resolve = this.#next.resolve;
    this.#next = Promise.withResolvers<void>();
    resolve();
    for (const listener of this.#listeners) {
      try {
        listener(next);
      } catch (err) {
        this.#log?.error("fleet alert listener failed", { err: errorMessage(err) });
      }
    }
  }

  async #poll(): Promise<void> {
    const signal = this.#closing.signal;
    while (!signal.aborted) {
      await this.check().catch(() => {});
      if (signal.aborted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#interval);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }
}

/**
 * The time between alert queries for a soak time: a sixth of it, so that an alert is
 * seen well within a canary's soak, from 1 s to 15 s (a common scrape interval).
 */
export function alertInterval(soakMs: number): number {
  return Math.min(15_000, Math.max(1000, Math.round(soakMs / 6)));
}

/** Why no slot is taken, for a waiting gate's reason. */
export function alertsReason(state: AlertState): string {
  return state.state === "unknown"
    ? `alerts unknown (no slot until they can be queried): ${state.error ?? ""}`
    : `alerts firing (no slot while they fire): ${state.firing.map(describeAlert).join(", ")}`;
}

/**
 * Waits until the alerts are clear, or up to maxMs (then the caller looks at
 * everything again).
 * @throws the signal's reason when aborted
 */
export async function waitForClear(
  watch: AlertWatch,
  signal: AbortSignal,
  maxMs: number,
): Promise<void> {
  const stop = AbortSignal.any([signal, AbortSignal.timeout(maxMs)]);
  try {
    while (watch.state.state !== "clear") await watch.next(stop);
  } catch (err) {
    if (signal.aborted) throw err;
  }
}

/** The alert gate in one line, for `ysco fleet status`. */
export function formatAlerts(a: AlertsStatus): string {
  const where = `alerts at ${a.url}${a.api ? ` (${a.api})` : ""} matching ${a.match}`;
  switch (a.state) {
    case "clear":
      return `${where}: none firing`;
    case "firing":
      return `${where}: FIRING ${
        a.firing.map(describeAlert).join(", ")
      }: no host takes a slot while they fire`;
    case "unknown":
      return `${where}: cannot query (${a.error ?? ""}): no host takes a slot until it answers`;
  }
}
