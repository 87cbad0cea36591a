/**
 * The soak clock of the release a host runs, for the etcd gate: when it has run
 * healthily for the soak time, the gate may write its soak mark (if it is a canary
 * during a rollout, see policy.soakVerdict).
 *
 * The clock restarts whenever the release changes or turns unhealthy, and, with
 * alert-gated rollouts, whenever a matching alert fires or the alerts cannot be
 * queried: a soak counts only while none fires. An alert that was not firing when
 * the soak began (its baseline) started during the soak: the gate halts the release
 * for it. The baseline of a release the host installed through a canary slot is
 * empty (no alert fired when the slot was granted, or it would not have been), so an
 * alert that begins during the install counts too; after a restart of ysco it is
 * what fires at the first query.
 *
 * Timers only, no I/O.
 *
 * @module
 */

import type { Release } from "../state/state.ts";
import { alertKey, type FiringAlert } from "./alerts.ts";
import type { AlertState } from "./alert_watch.ts";
import { formatTarget } from "./layout.ts";

/** The soak of one release. */
export interface Soak {
  readonly target: Release;
  /** It ran healthily (and without alerts) for the soak time. */
  due: boolean;
  /** Its mark is written, or it will never be: no more marks or halts for it. */
  closed: boolean;
}

interface Running extends Soak {
  name: string;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Keys of the alerts firing when the soak began; undefined until known. */
  baseline: Set<string> | undefined;
}

/** The soak clock; onDue is called when a soak becomes due. */
export class CanarySoak {
  readonly #soakMs: number;
  readonly #onDue: () => void;
  #soak: Running | undefined;
  #granted: string | undefined;
  #alerts: AlertState["state"] = "clear";

  /**
   * @param soakMs the soak time
   * @param onDue called when the running release has soaked
   */
  constructor(soakMs: number, onDue: () => void) {
    this.#soakMs = soakMs;
    this.#onDue = onDue;
  }

  /** The soak in progress, if the running release is healthy. */
  get current(): Soak | undefined {
    return this.#soak;
  }

  /** This host took a canary slot for target: its soak begins with no alert firing. */
  granted(target: Release): void {
    this.#granted = formatTarget(target);
  }

  /**
   * The running release and its health; returns true when a new soak began (the
   * caller then passes the current alert state to alerts()).
   */
  report(release: Release, healthy: boolean): boolean {
    const name = formatTarget(release);
    if (!healthy) {
      this.stop();
      return false;
    }
    if (this.#soak?.name === name) return false;
    this.stop();
    this.#soak = {
      name,
      target: { version: release.version, goVersion: release.goVersion },
      due: false,
      closed: false,
      timer: undefined,
      baseline: this.#granted === name ? new Set() : undefined,
    };
    if (this.#granted === name) this.#granted = undefined;
    if (this.#alerts === "clear") this.#start();
    return true;
  }

  /**
   * A new answer about alerts: firing or unknown stops the clock, clear starts it
   * again. Returns the alerts that began during the soak (not in its baseline); the
   * caller halts the release for them or accepts them.
   */
  alerts(state: AlertState): FiringAlert[] {
    this.#alerts = state.state;
    const soak = this.#soak;
    if (soak === undefined) return [];
    if (state.state !== "clear") this.#reset();
    else if (soak.timer === undefined && !soak.due) this.#start();
    if (soak.closed || state.state === "unknown") return [];
    if (soak.baseline === undefined) {
      soak.baseline = new Set(state.firing.map(alertKey));
      return [];
    }
    const baseline = soak.baseline;
    return state.firing.filter((a) => !baseline.has(alertKey(a)));
  }

  /** Alerts that will not halt the release (the host is no canary for it now). */
  accept(alerts: readonly FiringAlert[]): void {
    for (const a of alerts) this.#soak?.baseline?.add(alertKey(a));
  }

  /** The soak's mark is written, or never will be (until the release changes). */
  close(soak: Soak): void {
    if (soak !== this.#soak) return;
    this.#reset();
    soak.closed = true;
  }

  /** A due soak was looked at too early: it is due again after ms. */
  postpone(soak: Soak, ms: number): void {
    if (soak !== this.#soak) return;
    this.#reset();
    if (this.#alerts === "clear") this.#start(ms);
  }

  /** Stops the clock (at shutdown, or when the release turns unhealthy). */
  stop(): void {
    if (this.#soak?.timer !== undefined) clearTimeout(this.#soak.timer);
    this.#soak = undefined;
  }

  #reset(): void {
    const soak = this.#soak;
    if (soak === undefined) return;
    if (soak.timer !== undefined) clearTimeout(soak.timer);
    soak.timer = undefined;
    soak.due = false;
  }

  #start(ms = this.#soakMs): void {
    const soak = this.#soak;
    if (soak === undefined || soak.closed) return;
    soak.timer = setTimeout(() => {
      soak.timer = undefined;
      soak.due = true;
      this.#onDue();
    }, ms);
  }
}
