/**
 * What the admin routes share: the dependencies, the configuration file, the form
 * token, the password in effect and the configuration ysco started with.
 *
 * @module
 */

import { join } from "node:path";
import type { Config } from "../config/config.ts";
import type { AdminDeps } from "./actions.ts";
import { CsrfTokens } from "./csrf.ts";
import { fleetGroupReader, type FleetGroupView } from "./fleet_group.ts";

/** The shared state of the admin routes. */
export interface AdminState {
  deps: AdminDeps;
  /** `<dir>/ysco.toml`. */
  configFile: string;
  csrf: CsrfTokens;
  now: () => number;
  /** The admin password in effect (changes when the page saves the configuration). */
  password: { current: string };
  /** The configuration ysco started with: keys read at start keep these values. */
  started: Config;
  readFleetGroup: () => Promise<FleetGroupView | undefined>;
}

/** The state for an app. */
export function adminState(deps: AdminDeps): AdminState {
  const now = deps.now ?? Date.now;
  return {
    deps,
    configFile: join(deps.dir, "ysco.toml"),
    csrf: new CsrfTokens(),
    now,
    password: { current: deps.password },
    started: deps.actions.status().config,
    readFleetGroup: fleetGroupReader(deps.fleet, now),
  };
}
