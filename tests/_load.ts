/**
 * A client load on the service for tests and benchmarks of zero-downtime updates:
 * one request after another, about every intervalMs, each on a fresh connection
 * (TCP or a unix socket), counting those that fail (refused, reset, no 200 answer)
 * and the longest window of failures.
 *
 * @module
 */

/** Where the load goes. */
export type LoadTarget = { port: number } | { path: string };

/** What a load saw. */
export interface LoadResult {
  requests: number;
  failed: number;
  /** The longest time from a failed request to the next success, ms (0: none failed). */
  longestFailureMs: number;
  /** The longest time one request took, ms (a connection the kernel queued waits). */
  longestRequestMs: number;
  /** The first few errors, for assertion messages. */
  errors: string[];
}

/** A running load; stop() ends it after the request in flight. */
export interface Load {
  stop(): Promise<LoadResult>;
  /** Requests made so far. */
  requests(): number;
}

const REQUEST = new TextEncoder().encode("GET / HTTP/1.0\r\nHost: load\r\n\r\n");

/**
 * Starts the load. A request may wait as long as timeoutMs (a connection queued by
 * the kernel while no process accepts is not a failure).
 */
export function startLoad(target: LoadTarget, intervalMs = 2, timeoutMs = 60_000): Load {
  let done = false;
  const result: LoadResult = {
    requests: 0,
    failed: 0,
    longestFailureMs: 0,
    longestRequestMs: 0,
    errors: [],
  };
  const running = (async () => {
    let failingSince: number | undefined;
    while (!done) {
      result.requests++;
      const t0 = performance.now();
      const problem = await request(target, timeoutMs);
      const now = performance.now();
      result.longestRequestMs = Math.max(result.longestRequestMs, now - t0);
      if (problem === undefined) {
        if (failingSince !== undefined) {
          result.longestFailureMs = Math.max(result.longestFailureMs, now - failingSince);
        }
        failingSince = undefined;
      } else {
        result.failed++;
        failingSince ??= now;
        if (result.errors.length < 5) result.errors.push(problem);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    if (failingSince !== undefined) {
      result.longestFailureMs = Math.max(result.longestFailureMs, performance.now() - failingSince);
    }
  })();
  return {
    requests: () => result.requests,
    async stop() {
      done = true;
      await running;
      return result;
    },
  };
}

/** One request; undefined when it got a 200 answer, else what went wrong. */
async function request(target: LoadTarget, timeoutMs: number): Promise<string | undefined> {
  let conn: Deno.Conn | undefined;
  const timer = setTimeout(() => conn?.close(), timeoutMs);
  try {
    conn = "port" in target
      ? await Deno.connect({ hostname: "127.0.0.1", port: target.port })
      : await Deno.connect({ transport: "unix", path: target.path });
    await conn.write(REQUEST);
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(
      chunks.reduce((a, b) => new Uint8Array([...a, ...b]), new Uint8Array()),
    );
    return /^HTTP\/1\.[01] 200 /.test(text) ? undefined : `answer: ${text.split("\r\n")[0]}`;
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // closed by the timer or the peer
    }
  }
}
