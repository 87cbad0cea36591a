/**
 * A small etcd v3 client over etcd's HTTP/JSON gateway (`POST /v3/kv/range`, ...),
 * with plain `fetch`: ranges, puts, deletes, transactions, leases and watches,
 * several endpoints with failover, user/password authentication (a token in the
 * Authorization header) and TLS with a CA and a client certificate through
 * `Deno.createHttpClient`.
 *
 * Why the JSON gateway and not gRPC: every etcd since 3.3 serves the gateway on its
 * client port next to gRPC, with the same semantics (it is generated from the same
 * protobuf service), so nothing is lost for the few calls a fleet needs. The npm gRPC
 * client (`etcd3` on `@grpc/grpc-js`) is lightly maintained, pulls in HTTP/2 and
 * protobuf machinery written for Node, and is a risk inside a Deno single executable;
 * `fetch` is built in, works the same in `deno run` and `deno compile`, and each call
 * is one JSON POST that can be read in a packet capture or replayed with curl.
 * Streaming calls (watch) arrive as newline-delimited JSON; a lease keep-alive is a
 * one-message stream, so it is one POST.
 *
 * With --client-cert-auth and authentication enabled, etcd's gateway refuses client
 * certificates that carry a Common Name ("CommonName of client sending a request
 * against gateway will be ignored"): use a certificate without one, and a user and
 * password for the identity. The members' server certificates need the clientAuth
 * usage too, because the gateway connects to its own gRPC port with them.
 *
 * Keys and values are strings (UTF-8, base64 on the wire); revisions are numbers;
 * lease IDs stay decimal strings because they use all 64 bits.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import {
  type Compare,
  compareRequest,
  deleteRequest,
  isObject,
  type KeyValue,
  keyValue,
  type Op,
  opRequest,
  type OpResult,
  opResult,
  parseJsonOrNull,
  putRequest,
  type RangeOptions,
  rangeRequest,
  type RangeResult,
  rangeResult,
  revisionOf,
  type Txn,
  type TxnResult,
  type WatchBatch,
  type WatchEvent,
  watchRequest,
  type WatchSpec,
} from "./etcd_wire.ts";

export { prefixEnd } from "./etcd_wire.ts";
export type {
  Compare,
  KeyValue,
  Op,
  OpResult,
  RangeOptions,
  RangeResult,
  Txn,
  TxnResult,
  WatchBatch,
  WatchEvent,
  WatchSpec,
};

/** TLS material, in PEM. */
export interface EtcdTls {
  /** CA certificates that sign the members' certificates (added to the system roots). */
  caCert?: string;
  /** Client certificate chain, for members started with --client-cert-auth. */
  cert?: string;
  /** The client certificate's private key. */
  key?: string;
}

/** Options for EtcdClient. */
export interface EtcdOptions {
  /**
   * Client URLs of the members, e.g. "http://10.0.0.1:2379"; "HOST:PORT" gets
   * https when TLS material is given and http otherwise.
   */
  endpoints: string[];
  /** User for etcd authentication; absent: no authentication. */
  username?: string;
  password?: string;
  tls?: EtcdTls;
  /** Time limit of one request to one member, in ms. @default 5000 */
  requestTimeout?: number;
}

/** What one member says about itself (`/v3/maintenance/status`). */
export interface MemberStatus {
  endpoint: string;
  /** The member's id (decimal), when it answered. */
  memberId?: string;
  /** The id of the leader the member follows (or is); absent when it knows none. */
  leader?: string;
  /** Why it did not answer, or the errors it reports (e.g. "etcdserver: no leader"). */
  error?: string;
}

/** An error answered by etcd (bad request, failed auth, lease not found, ...). */
export class EtcdError extends Error {
  /** The gRPC status code etcd answered with. */
  readonly code: number;

  /**
   * @param message what failed, with etcd's text
   * @param code the gRPC status code
   */
  constructor(message: string, code: number) {
    super(message);
    this.name = "EtcdError";
    this.code = code;
  }
}

/**
 * No member could serve the request: unreachable, timed out, or without a quorum.
 * Callers fail closed on it and retry later.
 */
export class EtcdUnavailableError extends Error {
  /**
   * @param message what failed, naming every endpoint tried
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EtcdUnavailableError";
  }
}

// gRPC status codes that mean "this member cannot serve it now; another may".
const UNAVAILABLE_CODES = new Set([
  4, // DEADLINE_EXCEEDED: request timed out, no leader
  14, // UNAVAILABLE: no leader, leader changed, not capable
]);
const UNAUTHENTICATED = 16;
const QUORUM = { quorum: true };
const NO_QUORUM = { quorum: false };

/** Whether etcd needs a quorum for a transaction: unless it only reads, serializably. */
function needsQuorum(txn: Txn): boolean {
  const ops = [...txn.success, ...(txn.failure ?? [])];
  return ops.length === 0 || ops.some((op) => !("range" in op) || !op.range.serializable);
}

/** An etcd v3 client over the JSON gateway; close it (or `await using`) to free its connections. */
export class EtcdClient implements AsyncDisposable {
  /** Number of HTTP requests sent (each watch stream counts once), for metrics and benchmarks. */
  requests = 0;
  /** Completed calls, failed or not (see quorumSequence). */
  #sequence = 0;
  #quorumSequence = 0;
  readonly #endpoints: string[];
  readonly #options: EtcdOptions;
  readonly #http: Deno.HttpClient;
  readonly #timeout: number;
  #current = 0;
  #token: string | undefined;
  #authenticating: Promise<string> | undefined;
  readonly #streams = new Set<AbortController>();

  /**
   * @param options endpoints, credentials and TLS material
   * @throws TypeError for an empty or malformed endpoint list
   */
  constructor(options: EtcdOptions) {
    if (options.endpoints.length === 0) {
      throw new TypeError("Cannot create etcd client: no endpoints");
    }
    const tls = options.tls ?? {};
    const scheme = tls.caCert || tls.cert ? "https" : "http";
    this.#endpoints = options.endpoints.map((e) => normalizeEndpoint(e, scheme));
    this.#options = options;
    this.#timeout = options.requestTimeout ?? 5000;
    const base = { poolIdleTimeout: 30_000 };
    this.#http = tls.cert && tls.key
      ? Deno.createHttpClient({
        ...base,
        ...(tls.caCert ? { caCerts: [tls.caCert] } : {}),
        cert: tls.cert,
        key: tls.key,
      })
      : Deno.createHttpClient({ ...base, ...(tls.caCert ? { caCerts: [tls.caCert] } : {}) });
  }

  /** The endpoint requests go to first (the last one that answered). */
  get endpoint(): string {
    return this.#endpoints[this.#current] ?? "";
  }

  /**
   * The number of calls completed so far, failed or not: a caller that saw a failure
   * notes it, and knows etcd has a quorum again once quorumSequence passes it.
   */
  get sequence(): number {
    return this.#sequence;
  }

  /**
   * The sequence number of the last call that succeeded and needed a quorum of etcd's
   * members: a write, a linearizable read (a range or transaction that is not
   * serializable), a lease grant or revoke. A lease keep-alive (answered by the leader
   * alone), a serializable read (any member) and a watch (any member) prove nothing.
   */
  get quorumSequence(): number {
    return this.#quorumSequence;
  }

  /** Reads one key, or every key under a prefix. */
  async range(key: string, options: RangeOptions = {}): Promise<RangeResult> {
    const res = await this.#call("/v3/kv/range", rangeRequest(key, options), {
      quorum: !options.serializable,
    });
    return { ...rangeResult(res), revision: revisionOf(res) };
  }

  /** Writes a key, optionally attached to a lease; returns the new revision. */
  async put(key: string, value: string, options: { lease?: string } = {}): Promise<number> {
    const res = await this.#call("/v3/kv/put", putRequest({ key, value, ...options }), QUORUM);
    return revisionOf(res);
  }

  /** Deletes a key or a prefix; returns how many keys were deleted. */
  async delete(key: string, options: { prefix?: boolean } = {}): Promise<number> {
    const res = await this.#call(
      "/v3/kv/deleterange",
      deleteRequest(key, options.prefix),
      QUORUM,
    );
    return Number(res.deleted ?? 0);
  }

  /** Runs a transaction. */
  async txn(txn: Txn): Promise<TxnResult> {
    const res = await this.#call("/v3/kv/txn", {
      compare: txn.compare.map(compareRequest),
      success: txn.success.map(opRequest),
      failure: (txn.failure ?? []).map(opRequest),
    }, { quorum: needsQuorum(txn) });
    const responses = Array.isArray(res.responses) ? res.responses : [];
    return {
      succeeded: res.succeeded === true,
      revision: revisionOf(res),
      results: responses.map(opResult),
    };
  }

  /** Grants a lease of ttl seconds (etcd may raise it to its minimum); returns its ID and TTL. */
  async leaseGrant(ttl: number): Promise<{ id: string; ttl: number }> {
    const res = await this.#call("/v3/lease/grant", { TTL: String(ttl) }, QUORUM);
    return { id: String(res.ID ?? "0"), ttl: Number(res.TTL ?? 0) };
  }

  /** Renews a lease once; returns its TTL in seconds, 0 when it no longer exists. */
  async leaseKeepAlive(id: string): Promise<number> {
    const res = await this.#call("/v3/lease/keepalive", { ID: id }, NO_QUORUM);
    const result = isObject(res.result) ? res.result : {};
    return Number(result.TTL ?? 0);
  }

  /** Revokes a lease, deleting every key attached to it; a lease already gone is fine. */
  async leaseRevoke(id: string): Promise<void> {
    try {
      await this.#call("/v3/lease/revoke", { ID: id }, QUORUM);
    } catch (err) {
      if (err instanceof EtcdError && /lease not found/.test(err.message)) return;
      throw err;
    }
  }

  /**
   * Watches keys and yields batches of events until signal aborts, the stream ends
   * or fails (then it throws EtcdUnavailableError; the caller re-reads and watches
   * again). Several specs share one stream.
   */
  async *watch(specs: WatchSpec[], signal?: AbortSignal): AsyncGenerator<WatchBatch> {
    const body = specs.map((s) => JSON.stringify({ create_request: watchRequest(s) })).join("\n");
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#streams.add(ctrl);
    try {
      const res = await this.#send("/v3/watch", body, ctrl.signal, true);
      if (res.body === null) throw new EtcdUnavailableError(`Cannot watch: empty response`);
      const decoder = new TextDecoder();
      let buffer = "";
      // Watch IDs are assigned in order of the create requests.
      const ids = new Map<string, number>();
      let created = 0;
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf("\n")) !== -1) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === "") continue;
          const msg = parseJson(line);
          if (isObject(msg.error)) {
            throw new EtcdUnavailableError(`Cannot watch: ${String(msg.error.message ?? "")}`);
          }
          const r = isObject(msg.result) ? msg.result : {};
          const id = String(r.watch_id ?? "0");
          if (r.created === true) ids.set(id, created++);
          const index = ids.get(id) ?? 0;
          const compact = Number(r.compact_revision ?? 0);
          const events = Array.isArray(r.events) ? r.events : [];
          if (events.length > 0 || compact > 0) {
            yield {
              watch: index,
              revision: revisionOf(r),
              events: events.filter(isObject).map((e) => ({
                type: e.type === "DELETE" ? "delete" : "put",
                kv: keyValue(isObject(e.kv) ? e.kv : {}),
              })),
              ...(compact > 0 ? { compactRevision: compact } : {}),
            };
          }
          if (r.canceled === true) {
            throw new EtcdUnavailableError(
              `Cannot watch: canceled by etcd: ${String(r.cancel_reason ?? "")}`,
            );
          }
        }
      }
      if (!ctrl.signal.aborted) {
        throw new EtcdUnavailableError(`Cannot watch at ${this.endpoint}: stream ended`);
      }
    } catch (err) {
      if (ctrl.signal.aborted) return;
      if (err instanceof EtcdUnavailableError || err instanceof EtcdError) throw err;
      this.#failover(this.#current);
      throw new EtcdUnavailableError(`Cannot watch at ${this.endpoint}: ${errorMessage(err)}`, {
        cause: err,
      });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.#streams.delete(ctrl);
      ctrl.abort();
    }
  }

  /**
   * Watches until onBatch returns true (then resolves true), or until maxMs pass or the
   * stream ends (resolves false: the caller reads again).
   * @throws the signal's reason when it aborts; EtcdUnavailableError when the watch fails
   */
  async watchUntil(
    specs: WatchSpec[],
    signal: AbortSignal,
    maxMs: number,
    onBatch: (batch: WatchBatch) => boolean,
  ): Promise<boolean> {
    const stop = AbortSignal.any([signal, AbortSignal.timeout(maxMs)]);
    try {
      for await (const batch of this.watch(specs, stop)) {
        if (onBatch(batch)) return true;
      }
    } catch (err) {
      if (!stop.aborted) throw err;
    }
    signal.throwIfAborted();
    return false;
  }

  /**
   * Asks every member for its status at once (its id and the leader it follows), each
   * within the request time limit; members that do not answer carry the error.
   */
  async memberStatus(): Promise<MemberStatus[]> {
    return await Promise.all(this.#endpoints.map(async (endpoint): Promise<MemberStatus> => {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (this.#token !== undefined) headers.authorization = this.#token;
      this.requests++;
      try {
        const res = await fetch(`${endpoint}/v3/maintenance/status`, {
          method: "POST",
          body: "{}",
          headers,
          client: this.#http,
          signal: AbortSignal.timeout(this.#timeout),
        });
        const text = await res.text();
        const o = parseJsonOrNull(text);
        if (!res.ok || o === null) {
          return { endpoint, error: `status ${res.status}: ${text.trim().slice(0, 200)}` };
        }
        const header = isObject(o.header) ? o.header : {};
        const leader = String(o.leader ?? "0");
        const errors = Array.isArray(o.errors) ? o.errors.map(String) : [];
        return {
          endpoint,
          memberId: String(header.member_id ?? "0"),
          ...(leader !== "0" ? { leader } : {}),
          ...(errors.length > 0 ? { error: errors.join("; ") } : {}),
        };
      } catch (err) {
        return { endpoint, error: errorMessage(err) };
      }
    }));
  }

  /** Closes watch streams and idle connections. */
  close(): void {
    for (const s of this.#streams) s.abort();
    this.#http.close();
  }

  /** Closes the client. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** One unary call, failing over between endpoints; re-authenticates once on a stale token. */
  async #call(
    path: string,
    body: unknown,
    how: { quorum: boolean },
  ): Promise<Record<string, unknown>> {
    try {
      const res = await this.#callOnce(path, body);
      this.#sequence++;
      if (how.quorum) this.#quorumSequence = this.#sequence;
      return res;
    } catch (err) {
      this.#sequence++;
      throw err;
    }
  }

  async #callOnce(path: string, body: unknown, retried = false): Promise<Record<string, unknown>> {
    if (this.#options.username !== undefined && this.#token === undefined) {
      await this.#authenticate();
    }
    try {
      const res = await this.#send(path, JSON.stringify(body), undefined, false);
      return parseJson(await res.text());
    } catch (err) {
      if (
        !retried && err instanceof EtcdError && err.code === UNAUTHENTICATED &&
        this.#options.username !== undefined
      ) {
        this.#token = undefined;
        return await this.#callOnce(path, body, true);
      }
      throw err;
    }
  }

  async #authenticate(): Promise<string> {
    this.#authenticating ??= (async () => {
      try {
        const res = await this.#send(
          "/v3/auth/authenticate",
          JSON.stringify({ name: this.#options.username, password: this.#options.password ?? "" }),
          undefined,
          false,
          false,
        );
        const token = String(parseJson(await res.text()).token ?? "");
        if (token === "") {
          throw new EtcdError(
            `Cannot authenticate to etcd as "${this.#options.username}": no token`,
            16,
          );
        }
        this.#token = token;
        return token;
      } finally {
        this.#authenticating = undefined;
      }
    })();
    return await this.#authenticating;
  }

  /**
   * Sends one POST, trying each endpoint once starting at the current one. Answers
   * that mean "try another member" move on; etcd errors of other kinds are thrown.
   */
  async #send(
    path: string,
    body: string,
    signal: AbortSignal | undefined,
    stream: boolean,
    withToken = true,
  ): Promise<Response> {
    const failures: string[] = [];
    const start = this.#current;
    for (let i = 0; i < this.#endpoints.length; i++) {
      const index = (start + i) % this.#endpoints.length;
      const endpoint = this.#endpoints[index] ?? "";
      const timeout = AbortSignal.timeout(this.#timeout);
      // A stream is limited only while its response headers arrive.
      const ctrl = new AbortController();
      const onTimeout = () => ctrl.abort(timeout.reason);
      timeout.addEventListener("abort", onTimeout, { once: true });
      const signals = signal ? [ctrl.signal, signal] : [ctrl.signal];
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (withToken && this.#token !== undefined) headers.authorization = this.#token;
      this.requests++;
      try {
        const res = await fetch(endpoint + path, {
          method: "POST",
          body,
          headers,
          client: this.#http,
          signal: AbortSignal.any(signals),
        });
        if (res.ok) {
          if (!stream) {
            // Read the body under the time limit too.
            const text = await res.text();
            timeout.removeEventListener("abort", onTimeout);
            this.#current = index;
            return new Response(text, { status: res.status });
          }
          timeout.removeEventListener("abort", onTimeout);
          this.#current = index;
          return res;
        }
        timeout.removeEventListener("abort", onTimeout);
        const text = await res.text();
        const answer = parseJsonOrNull(text);
        const code = Number(answer?.code ?? 0);
        const message = String(answer?.message ?? answer?.error ?? text.trim()).slice(0, 300);
        if (UNAVAILABLE_CODES.has(code) || res.status >= 502) {
          failures.push(`${endpoint}: ${message || `status ${res.status}`}`);
          continue;
        }
        this.#current = index;
        throw new EtcdError(`Cannot ${describe(path)} at ${endpoint}: ${message}`, code);
      } catch (err) {
        timeout.removeEventListener("abort", onTimeout);
        if (err instanceof EtcdError) throw err;
        if (signal?.aborted) throw err;
        const why = timeout.aborted ? `no answer within ${this.#timeout} ms` : errorMessage(err);
        failures.push(`${endpoint}: ${why}`);
      }
    }
    this.#failover(start);
    throw new EtcdUnavailableError(`Cannot ${describe(path)}: ${failures.join("; ")}`);
  }

  /** Starts the next request at the member after the one that failed. */
  #failover(failed: number): void {
    if (this.#current === failed) this.#current = (failed + 1) % this.#endpoints.length;
  }
}

function normalizeEndpoint(endpoint: string, scheme: string): string {
  const withScheme = /^[a-z]+:\/\//.test(endpoint) ? endpoint : `${scheme}://${endpoint}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`Cannot use etcd endpoint "${endpoint}": not a URL or HOST:PORT`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`Cannot use etcd endpoint "${endpoint}": scheme must be http or https`);
  }
  return `${url.protocol}//${url.host}`;
}

function describe(path: string): string {
  const what: Record<string, string> = {
    "/v3/kv/range": "read from etcd",
    "/v3/kv/put": "write to etcd",
    "/v3/kv/deleterange": "delete from etcd",
    "/v3/kv/txn": "run etcd transaction",
    "/v3/lease/grant": "grant etcd lease",
    "/v3/lease/keepalive": "renew etcd lease",
    "/v3/lease/revoke": "revoke etcd lease",
    "/v3/auth/authenticate": "authenticate to etcd",
    "/v3/watch": "watch etcd",
  };
  return what[path] ?? `call etcd ${path}`;
}

function parseJson(text: string): Record<string, unknown> {
  const v = parseJsonOrNull(text);
  if (v === null) throw new EtcdUnavailableError(`Cannot parse etcd answer: ${text.slice(0, 200)}`);
  return v;
}
