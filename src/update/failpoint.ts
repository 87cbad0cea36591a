/**
 * Fail points for the crash tests (as etcd's gofail): named places in the update
 * transaction where ysco, when the test asks for it through YSCO_TEST_FAILPOINT,
 * logs that it got there and waits, so that the test can kill it (kill -9, SIGTERM)
 * at exactly that moment. Without the variable they cost one set lookup.
 *
 * @module
 */

import type { Logger } from "../log.ts";

/** The environment variable naming the fail points to stop at, comma-separated. */
export const FAILPOINT_ENV = "YSCO_TEST_FAILPOINT";

let enabled: ReadonlySet<string> | undefined;

function points(): ReadonlySet<string> {
  enabled ??= new Set(
    (Deno.env.get(FAILPOINT_ENV) ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""),
  );
  return enabled;
}

/** Whether the test asked to stop at the fail point name. */
export function failpointEnabled(name: string): boolean {
  return points().has(name);
}

/**
 * Stops at the fail point name when the test enabled it: logs
 * `msg="failpoint reached" name=NAME` and waits until signal aborts (or forever).
 */
export async function failpoint(name: string, log: Logger, signal?: AbortSignal): Promise<void> {
  if (!points().has(name)) return;
  log.warn("failpoint reached", { name });
  await new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const keepAlive = setInterval(() => {}, 1 << 30);
    signal?.addEventListener("abort", () => {
      clearInterval(keepAlive);
      resolve();
    }, { once: true });
  });
}
