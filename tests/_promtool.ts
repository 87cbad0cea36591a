/**
 * `promtool check metrics` on a metrics page: Prometheus's own linter for the text
 * exposition format (names, help, types, units, counters ending in _total).
 *
 * @module
 */

import { assertEquals } from "./_assert.ts";
import { run } from "../world/go.ts";

/** Fails unless promtool accepts the metrics text. */
export async function promtoolCheckMetrics(text: string): Promise<void> {
  const out = await run("promtool", ["check", "metrics"], { stdin: text }).catch((err) =>
    err as Error
  );
  assertEquals(out instanceof Error ? out.message : "", "");
}
