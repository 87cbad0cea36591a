/**
 * The health check of a newly started service: poll `update.health_url` until it
 * answers 2xx, or give up at a deadline.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";

/** Options for waitHealthy. */
export interface HealthOptions {
  /** Give up after this long, ms. */
  timeoutMs: number;
  /** Time between attempts, ms. @default 250 */
  intervalMs?: number;
  /** Stops waiting (e.g. when the service exited). */
  signal?: AbortSignal;
}

/**
 * Polls url until it answers 2xx. Returns undefined when healthy, else the last
 * problem ("status 500", "connection refused", ...).
 */
export async function waitHealthy(
  url: string,
  options: HealthOptions,
): Promise<string | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  let problem = "no answer yet";
  while (!options.signal?.aborted) {
    problem = (await checkHealth(url, Math.max(1, Math.min(5000, deadline - Date.now())))) ?? "";
    if (problem === "") return undefined;
    if (Date.now() + (options.intervalMs ?? 250) > deadline) break;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
  return options.signal?.aborted
    ? "stopped waiting"
    : `not healthy within ${options.timeoutMs / 1000}s: ${problem}`;
}

/** One attempt: undefined when url answers 2xx within timeoutMs, else the problem. */
export async function checkHealth(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 300 ? undefined : `status ${res.status}`;
  } catch (err) {
    return errorMessage(err);
  }
}
