/**
 * What the admin interface works with: the updater's snapshot and actions, the fleet
 * gate's group view, and the rest of its dependencies. The updater implements
 * AdminActions.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { FleetGate } from "../fleet/gate.ts";
import type { Logger } from "../log.ts";
import type { Counter, Registry } from "../metrics/registry.ts";
import type { StatusView, UpdateRequest, UpdateResult } from "../update/types.ts";
import type { LoginLimits } from "./login_limiter.ts";

/** The updater as the admin interface sees it. */
export interface AdminActions {
  status(): StatusView;
  check(): Promise<unknown>;
  pause(reason?: string): Promise<void>;
  unpause(): Promise<void>;
  notify(): void;
  cancelScheduled(which: "svc" | "self"): Promise<void>;
  update(request: UpdateRequest): Promise<UpdateResult>;
  setConfig(config: Config): void;
  readonly busy: boolean;
}

/** What the admin interface uses of the fleet gate. */
export type AdminFleet = Pick<FleetGate, "readGroup" | "resume">;

/** Dependencies of the admin app. */
export interface AdminDeps {
  actions: AdminActions;
  /** The admin password (from the auth file; read again when the page saves the configuration). */
  password: string;
  /** The ys directory: the configuration file is `<dir>/ysco.toml`. */
  dir: string;
  /** ysco's command line, shown on the page. */
  argv: string[];
  registry: Registry;
  /** Counts failed logins; created unregistered when absent. */
  authFailures?: Counter;
  /** Whether this server also serves /metrics (one address for both). */
  serveMetrics: boolean;
  /** The port this server listens on: a self-update hands its request's connection over by it. */
  listenPort?: number;
  yscoVersion: string;
  log: Logger;
  /** Shortest time between two checks started by webhooks, ms. @default 10000 */
  notifyIntervalMs?: number;
  /** The clock. @default Date.now */
  now?: () => number;
  /** The fleet gate, when `[fleet]` is configured: the group view and resuming halts. */
  fleet?: AdminFleet;
  /** The brute-force limits of the password. @default LOGIN_LIMITS */
  loginLimits?: Partial<LoginLimits>;
}
