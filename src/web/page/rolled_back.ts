/**
 * Which releases of the service were rolled back, from the update history, so that
 * the page can mark them where it offers them.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import type { HistoryEntry } from "../../state/state.ts";

/**
 * A note on a version of the service that was rolled back: "rolled back on TIME"
 * for the release itself, "rolled back with go1.23.4 on TIME" when only another Go
 * build was; undefined when it never was. The latest rollback counts.
 * @param goVersion the Go version the note is for; "" to note any build of the version
 */
export function rolledBackNote(
  history: readonly HistoryEntry[],
  version: string,
  goVersion: string,
  when: (iso: string) => string,
): string | undefined {
  const entries = history.filter((h) =>
    h.which === "svc" && h.outcome === "rolled back" && h.to.version === version
  );
  const same = entries.filter((h) => h.to.goVersion === goVersion).at(-1);
  if (same) return `rolled back on ${when(same.time)}`;
  const other = entries.at(-1);
  return other ? `rolled back with ${other.to.goVersion} on ${when(other.time)}` : undefined;
}
