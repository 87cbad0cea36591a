/**
 * `promtool check metrics` on a metrics page: Prometheus's own linter for the text
 * exposition format (names, help, types, units, counters ending in _total).
 *
 * @module
 */

import { assertEquals } from "./_assert.ts";

/** Fails unless promtool accepts the metrics text. */
export async function promtoolCheckMetrics(text: string): Promise<void> {
  const p = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const out = await p.output();
  const dec = new TextDecoder();
  assertEquals(out.code, 0, dec.decode(out.stderr) + dec.decode(out.stdout));
}
