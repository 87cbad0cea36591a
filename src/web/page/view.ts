/**
 * What the page's components share: the data of the page and helpers over it.
 *
 * @module
 */

import { formatZoned } from "../../decide/schedule.ts";
import type { StatusView } from "../../update/types.ts";
import type { FleetGroupView } from "../fleet_group.ts";

/** What the page shows. */
export interface PageData {
  status: StatusView;
  /** The token every form carries. */
  csrf: string;
  argv: string[];
  configFile: string;
  configText: string;
  yscoVersion: string;
  now: number;
  /** The fleet group as last read from etcd (etcd backend only). */
  fleetGroup?: FleetGroupView;
  /** Keys read at start that were changed since: they apply at the next start. */
  pendingRestart: string[];
  /** Warnings about the configuration, e.g. a short admin password. */
  warnings: string[];
}

/** The page's data with helpers. */
export interface View {
  d: PageData;
  s: StatusView;
  /** Whether an update runs: forms that start one are disabled. */
  busy: boolean;
  /** A time (ISO 8601) in the schedule's time zone, "2026-03-01 14:00 CET". */
  when(iso: string): string;
}

/** The view of page data. */
export function viewOf(d: PageData): View {
  const zone = d.status.config.update.timezone;
  return {
    d,
    s: d.status,
    busy: d.status.busy !== undefined,
    when: (iso) => formatZoned(Date.parse(iso), zone),
  };
}
