/**
 * The updater's source of binaries: the gobuild service named by `[gobuild]`. A
 * build is looked up in gobuild's transparency log and verified against it, then
 * downloaded and checked against the verified record's sum and size. Proofs of a
 * misbehaving log are logged with both notes and counted.
 *
 * @module
 */

import type { Config } from "../config/config.ts";
import type { Logger } from "../log.ts";
import { binaryUrl, tlogBaseUrl } from "../verify/buildspec.ts";
import { downloadBinary } from "../verify/download.ts";
import { TlogClient } from "../verify/tlog_client.ts";
import { httpTlogOps } from "../verify/tlog_ops.ts";
import { parseVerifierKey } from "../verify/verifier_key.ts";
import type { YscoMetrics } from "../metrics/ysco_metrics.ts";
import type { BuildSpec } from "../verify/buildspec.ts";
import type { Fetched, Fetcher, FetchOptions } from "./types.ts";

/**
 * A Fetcher using the gobuild of the configuration; the log's cache lives under
 * `<dir>/gobuildverifiercache/`.
 */
export function createGobuildFetcher(dir: string, log: Logger, metrics: YscoMetrics): Fetcher {
  const clients = new Map<string, TlogClient>();
  const client = (config: Config): { client: TlogClient; base: string } => {
    const key = parseVerifierKey(config.gobuild.verifier_key);
    const base = tlogBaseUrl(key.name, config.gobuild.base_url);
    const id = `${key.text} ${base} ${config.gobuild.timeout}`;
    let c = clients.get(id);
    if (c === undefined) {
      c = new TlogClient(key.text, {
        ops: httpTlogOps({ baseUrl: base, dir, name: key.name, timeoutMs: config.gobuild.timeout }),
        onSecurityError: (err) => {
          metrics.tlogSecurityErrors.inc();
          log.error("transparency log security error", { err: err.report });
        },
      });
      clients.set(id, c);
    }
    return { client: c, base };
  };
  return {
    async fetch(
      spec: BuildSpec,
      dest: string,
      modeFrom: string,
      config: Config,
      options: FetchOptions = {},
    ): Promise<Fetched> {
      const { client: tlog, base } = client(config);
      const t0 = performance.now();
      const verified = await abortable(tlog.lookup(spec), options.signal);
      log.debug("looked up binary at gobuild", {
        record: verified.id,
        tree: verified.tree.size,
        cached: verified.cached,
        duration: `${Math.round(performance.now() - t0)}ms`,
      });
      const url = binaryUrl(base, verified.record);
      const got = await downloadBinary({ url, record: verified.record, dest }, {
        timeoutMs: config.gobuild.timeout,
        modeFrom,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      log.info("downloaded verified binary", {
        url,
        size: got.size,
        sum: got.sum,
        record: verified.id,
        duration: `${Math.round(performance.now() - t0)}ms`,
      });
      return { path: got.path, size: got.size, sha256: got.sha256 };
    },
  };
}

/**
 * Waits for p, or rejects as soon as signal aborts (a lookup in the log writes only
 * its cache, so it may finish in the background).
 */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
