/**
 * The fleet group as the admin page shows it: read from etcd on each page load
 * within a short limit, and the last good reading (with its time) when etcd does
 * not answer.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import type { FleetGate } from "../fleet/gate.ts";
import type { FleetStatus } from "../fleet/status.ts";

/** The group for the fleet section: the last good reading, and the error of a failed one. */
export interface FleetGroupView {
  status?: FleetStatus;
  /** When status was read (ms since the epoch). */
  readAt?: number;
  /** Why the latest reading failed. */
  error?: string;
}

/** Longest wait for etcd when the page shows the fleet group. */
const FLEET_READ_TIMEOUT_MS = 3000;

/** A reader of the group that keeps its last good reading. */
export function fleetGroupReader(
  fleet: Pick<FleetGate, "readGroup"> | undefined,
  now: () => number,
): () => Promise<FleetGroupView | undefined> {
  let last: FleetGroupView = {};
  return async () => {
    if (fleet?.readGroup === undefined) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const status = await Promise.race([
        fleet.readGroup(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${FLEET_READ_TIMEOUT_MS / 1000}s`)),
            FLEET_READ_TIMEOUT_MS,
          );
        }),
      ]);
      last = { status, readAt: now() };
    } catch (err) {
      last = { ...last, error: errorMessage(err) };
    } finally {
      clearTimeout(timer);
    }
    return last;
  };
}
