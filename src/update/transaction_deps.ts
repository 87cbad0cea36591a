/**
 * What the parts of a service update share: the options they work with, the error
 * that ends an update without an install, and small helpers.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { FleetGate } from "../fleet/gate.ts";
import type { Logger } from "../log.ts";
import type { Outcome, Release } from "../state/state.ts";
import type { YscoMetrics } from "../metrics/ysco_metrics.ts";
import type { Clock } from "./clock.ts";
import type { ServiceLifetime } from "./lifetime.ts";
import type { StateStore } from "./store.ts";
import type { Fetcher, ServiceInfo } from "./types.ts";

/** The running service's build info, shared with the rest of the update cycle. */
export interface Running {
  info: ServiceInfo;
}

/** What a transaction works with. */
export interface TransactionOptions {
  /** The service path, absolute (usually a symlink). */
  cmdAbs: string;
  store: StateStore;
  lifetime: ServiceLifetime;
  running: Running;
  fetcher: Fetcher;
  gate?: FleetGate | undefined;
  log: Logger;
  metrics: YscoMetrics;
  clock: Clock;
  /** The current configuration. */
  config(): Config;
  /** Tells the status page what the update is doing. */
  phase(phase: string): void;
  /** Aborted when ysco ends (told to stop, or the service quit): the update ends at once. */
  signal: AbortSignal;
}

/** The end of an update that did not install. */
export class UpdateEnd extends Error {
  readonly outcome: Outcome;
  /** Whether a scheduled update backs off before it is tried again. */
  readonly backoff: boolean;
  /**
   * @param outcome "failed" or "cancelled"
   * @param message why
   */
  constructor(outcome: Outcome, message: string, options: { backoff?: boolean } = {}) {
    super(message);
    this.name = "UpdateEnd";
    this.outcome = outcome;
    this.backoff = options.backoff ?? true;
  }
}

/** The version gauges of the running service. */
export function setVersionMetrics(metrics: YscoMetrics, svc: ServiceInfo): void {
  metrics.serviceVersion.setOnly({ version: svc.version });
  metrics.serviceGoVersion.setOnly({ version: svc.goVersion });
}

/** Just the release of r. */
export function release(r: Release): Release {
  return { version: r.version, goVersion: r.goVersion };
}
