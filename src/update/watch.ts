/**
 * Watching a newly started version: it must not exit within max(5 s, update.soak),
 * must answer update.health_url with 2xx within update.health_timeout, and must stay
 * healthy through the soak (docs/behaviour.md section 4.4).
 *
 * @module
 */

import type { InstallJournal } from "../state/state.ts";
import type { ServiceProcess } from "../supervise/supervisor.ts";
import type { Clock } from "./clock.ts";
import { failpoint } from "./failpoint.ts";
import { waitHealthy } from "./health.ts";
import type { InstallWrites } from "./install_writes.ts";
import { advance } from "./journal.ts";
import { QUICK_EXIT_MS } from "./lifetime.ts";
import type { TransactionOptions } from "./transaction_deps.ts";

/** How a watched version ended its watch. */
export type Verdict = { kind: "good" } | { kind: "bad"; problem: string } | { kind: "stopping" };

/**
 * Watches a newly started version until it counts as good: it must not exit
 * within max(5s, update.soak), must answer health_url with 2xx within
 * health_timeout, and must stay healthy through the soak.
 */
export async function watchNewVersion(
  proc: ServiceProcess,
  journal: InstallJournal,
  o: TransactionOptions,
  writes: InstallWrites,
): Promise<Verdict> {
  const config = o.config();
  const abort = new AbortController();
  const failed = Promise.withResolvers<Verdict>();
  const window = Math.max(QUICK_EXIT_MS, config.update.soak);
  const until = proc.startedAt + window;
  const url = config.update.health_url;
  const onStop = () => failed.resolve({ kind: "stopping" });
  o.signal.addEventListener("abort", onStop, { once: true });
  using _watch = o.lifetime.watch(
    proc,
    (reason) => failed.resolve({ kind: "bad", problem: reason }),
  );
  try {
    const checks = (async (): Promise<Verdict> => {
      if (url !== "") {
        o.phase("checking health");
        const problem = await waitHealthy(url, {
          timeoutMs: config.update.health_timeout,
          signal: abort.signal,
        });
        if (abort.signal.aborted) return { kind: "stopping" };
        if (problem !== undefined) {
          return { kind: "bad", problem: `health check of ${url}: ${problem}` };
        }
        writes.report(true);
      }
      o.phase("soaking");
      await writes.commitAfter({
        ...o.store.state,
        install: advance(journal, "watching", { watchUntil: new Date(until).toISOString() }),
      });
      await failpoint("watching", o.log, abort.signal);
      while (o.clock.now() < until) {
        await sleep(
          o.clock,
          Math.min(until - o.clock.now(), url === "" ? window : 5000),
          abort.signal,
        );
        if (abort.signal.aborted) return { kind: "stopping" };
        if (url !== "" && o.clock.now() < until) {
          const problem = await waitHealthy(url, { timeoutMs: 5000, signal: abort.signal });
          if (abort.signal.aborted) return { kind: "stopping" };
          if (problem !== undefined) {
            return { kind: "bad", problem: `health check of ${url} during the soak: ${problem}` };
          }
        }
      }
      return { kind: "good" };
    })();
    return await Promise.race([checks, failed.promise]);
  } finally {
    abort.abort();
    o.signal.removeEventListener("abort", onStop);
  }
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = clock.setTimeout(done, ms);
    function done() {
      clock.clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
