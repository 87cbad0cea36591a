/**
 * The FleetLock backend of FleetGate, for sites that already run a FleetLock server
 * (airlock on etcd3, poseidon/fleetlock on Kubernetes leases, ...), speaking the
 * protocol as Zincati does: `POST {base}/v1/pre-reboot` takes a slot and
 * `POST {base}/v1/steady-state` releases it, each with the header
 * `fleet-lock-protocol: true` and the body `{"client_params":{"id":..,"group":..}}`.
 * A 200 is success; anything else is a failure, with `{"kind","value"}` in the body.
 * Locks are recursive and owned by the id.
 *
 * Like Zincati's client state machine, the gate releases any slot this id still
 * holds (from before a crash or restart) once the service first reports healthy.
 * The protocol has no canaries, soak, halts or host states: a rollback only
 * releases the slot, and `ysco fleet status` has nothing to show. Alert gating works
 * as with etcd (no slot while a matching alert fires), without the canary part.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import { delay } from "./delay.ts";
import type { Logger } from "../log.ts";
import type { Release } from "../state/state.ts";
import {
  type AcquireOptions,
  type FleetGate,
  type FleetSlot,
  type GateCounters,
  type GateStatus,
  type HostReport,
  liveCounters,
  zeroCounters,
} from "./gate.ts";
import { formatTarget } from "./layout.ts";
import { alertsReason, type AlertWatch, waitForClear } from "./alert_watch.ts";

/** The header every FleetLock request carries. */
export const FLEETLOCK_HEADER = "fleet-lock-protocol";

/** A FleetLock server refused an operation (any status but 200). */
export class FleetLockError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** The error's kind from the body (a small set, e.g. "failed_lock_semaphore_full"), or "". */
  readonly kind: string;

  /**
   * @param message what failed
   * @param status the HTTP status
   * @param kind the error kind the server sent
   */
  constructor(message: string, status: number, kind: string) {
    super(message);
    this.name = "FleetLockError";
    this.status = status;
    this.kind = kind;
  }
}

/** Options for FleetLockClient. */
export interface FleetLockClientOptions {
  /** Time limit of one request (ms). @default 10000 */
  timeout?: number;
  /** HTTP client (e.g. with a CA). */
  client?: Deno.HttpClient;
}

/** A FleetLock protocol client for one id in one group. */
export class FleetLockClient {
  /** Requests sent. */
  requests = 0;
  readonly #base: string;
  readonly #body: string;
  readonly #timeout: number;
  readonly #client: Deno.HttpClient | undefined;

  /**
   * @param baseUrl the server's base URL; /v1/... is appended
   * @param params the client's id and group
   */
  constructor(
    baseUrl: string,
    params: { id: string; group: string },
    options: FleetLockClientOptions = {},
  ) {
    this.#base = baseUrl.replace(/\/+$/, "");
    this.#body = JSON.stringify({ client_params: { id: params.id, group: params.group } });
    this.#timeout = options.timeout ?? 10_000;
    this.#client = options.client;
  }

  /** RecursiveLock: takes (or keeps) a slot. @throws FleetLockError when refused */
  async lock(): Promise<void> {
    await this.#post("/v1/pre-reboot", "lock");
  }

  /** UnlockIfHeld: releases the slot if held. @throws FleetLockError when refused */
  async unlock(): Promise<void> {
    await this.#post("/v1/steady-state", "unlock");
  }

  async #post(path: string, what: string): Promise<void> {
    const url = this.#base + path;
    this.requests++;
    const res = await fetch(url, {
      method: "POST",
      headers: { [FLEETLOCK_HEADER]: "true", "content-type": "application/json" },
      body: this.#body,
      signal: AbortSignal.timeout(this.#timeout),
      ...(this.#client ? { client: this.#client } : {}),
    });
    const text = await res.text();
    if (res.status === 200) return;
    let kind = "";
    let value = text.trim().slice(0, 300);
    try {
      const o: unknown = JSON.parse(text);
      if (typeof o === "object" && o !== null) {
        const e = o as Record<string, unknown>;
        if (typeof e.kind === "string") kind = e.kind;
        if (typeof e.value === "string") value = e.value;
      }
    } catch {
      // not JSON: keep the text
    }
    throw new FleetLockError(
      `Cannot ${what} FleetLock slot at "${url}": status ${res.status}${
        kind ? ` ${kind}` : ""
      }: ${value}`,
      res.status,
      kind,
    );
  }
}

/** Options for openFleetLockGate. */
export interface FleetLockGateOptions {
  /** The server's base URL. */
  url: string;
  group: string;
  id: string;
  /** Time between tries while the semaphore is full (ms). @default 30000 */
  recheck?: number;
  /** First wait after a failed request (ms), doubling up to recheck. @default 1000 */
  retry?: number;
  client?: Deno.HttpClient;
  /** Close the HTTP client with the gate. @default false */
  closeClient?: boolean;
  logger?: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** The alert gate: no slot while a matching alert fires; started and closed with the gate. */
  alerts?: AlertWatch;
}

/** Opens a FleetLock gate. */
export function openFleetLockGate(options: FleetLockGateOptions): FleetLockGate {
  return new FleetLockGate(options);
}

/** The FleetLock backend of FleetGate. */
export class FleetLockGate implements FleetGate {
  readonly id: string;
  readonly group: string;
  readonly #lock: FleetLockClient;
  readonly #http: Deno.HttpClient | undefined;
  readonly #recheck: number;
  readonly #retry: number;
  readonly #log: Logger | undefined;
  readonly #now: () => Date;
  readonly #closing = new AbortController();
  readonly #counters: GateCounters = zeroCounters();
  readonly #alerts: AlertWatch | undefined;
  #holding: (Release & { since: Date }) | undefined;
  #waiting: (Release & { since: Date; reason: string }) | undefined;
  #error: { message: string; since: Date } | undefined;
  /** performance.now() when the current wait began. */
  #waitStart: number | undefined;
  #steady: Promise<void> | undefined;

  /** Use openFleetLockGate. */
  constructor(options: FleetLockGateOptions) {
    this.id = options.id;
    this.group = options.group;
    this.#lock = new FleetLockClient(options.url, options, {
      ...(options.client ? { client: options.client } : {}),
    });
    this.#http = options.closeClient ? options.client : undefined;
    this.#recheck = options.recheck ?? 30_000;
    this.#retry = options.retry ?? 1000;
    this.#log = options.logger?.with({ fleet: this.group, host: this.id });
    this.#now = options.now ?? (() => new Date());
    this.#alerts = options.alerts;
    this.#alerts?.start();
  }

  /** On the first healthy report, releases a slot left over from before a restart. */
  report(state: HostReport): void {
    if (!state.healthy || this.#steady !== undefined || this.#holding || this.#waiting) return;
    this.#steady = this.#persist(() => this.#lock.unlock()).then(() => {
      this.#log?.debug("FleetLock steady state reported");
    });
  }

  /** Takes a slot at the FleetLock server, retrying while it is full or unreachable. */
  async acquire(target: Release, options: AcquireOptions = {}): Promise<FleetSlot> {
    if (this.#holding !== undefined || this.#waiting !== undefined) {
      throw new Error(
        `Cannot acquire fleet slot for ${formatTarget(target)}: already ${
          this.#holding ? "holding" : "waiting for"
        } one`,
      );
    }
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#closing.signal])
      : this.#closing.signal;
    const since = this.#now();
    const t0 = performance.now();
    this.#waitStart = t0;
    this.#waiting = { ...target, since, reason: "releasing the slot held before a restart" };
    let backoff = this.#retry;
    try {
      // A steady-state report still in flight would release the slot taken below.
      await this.#steady;
      while (true) {
        signal.throwIfAborted();
        if (this.#alerts) {
          // No slot while alerts fire, asked once more right before the lock.
          if (this.#alerts.state.state === "clear") await this.#alerts.check(signal);
          if (this.#alerts.state.state !== "clear") {
            this.#waiting.reason = alertsReason(this.#alerts.state);
            await waitForClear(this.#alerts, signal, this.#recheck);
            continue;
          }
        }
        try {
          await this.#lock.lock();
          this.#ok();
          break;
        } catch (err) {
          if (signal.aborted) throw signal.reason;
          if (err instanceof FleetLockError && err.status < 500) {
            // Refused (semaphore full): a normal wait, not an outage.
            this.#ok();
            this.#waiting.reason = `FleetLock: ${err.message}`;
            await delay(this.#recheck, signal);
            continue;
          }
          this.#failed(err);
          this.#waiting.reason = `FleetLock: ${errorMessage(err)}`;
          await delay(backoff, signal);
          backoff = Math.min(backoff * 2, this.#recheck);
        }
      }
    } finally {
      this.#waiting = undefined;
      this.#counters.waitMs += performance.now() - t0;
      this.#waitStart = undefined;
    }
    const holding = { ...target, since: this.#now() };
    this.#holding = holding;
    this.#counters.slots++;
    this.#log?.info("fleet slot taken", { target: formatTarget(target) });
    let settled = false;
    const settle = async (how: string, reason?: string) => {
      if (settled) return;
      settled = true;
      if (this.#holding === holding) this.#holding = undefined;
      if (how === "rollback") {
        this.#counters.halts++;
        this.#log?.warn(
          "fleet update rolled back; FleetLock cannot halt the group, other hosts may still install it",
          { target: formatTarget(target), reason },
        );
      }
      await this.#persist(() => this.#lock.unlock());
    };
    return {
      target,
      signal: new AbortController().signal,
      release: () => settle("release"),
      rollback: (reason) => settle("rollback", reason),
      abandon: (error) => settle("abandon", error),
    };
  }

  /** A snapshot of what the gate is doing. */
  status(): GateStatus {
    const s: GateStatus = {
      backend: "fleetlock",
      id: this.id,
      group: this.group,
      connected: this.#error === undefined,
      counters: liveCounters(this.#counters, this.#waitStart, this.#lock.requests),
    };
    if (this.#error) s.error = { ...this.#error };
    if (this.#waiting) s.waiting = { ...this.#waiting };
    if (this.#holding) s.holding = { ...this.#holding };
    if (this.#alerts) s.alerts = this.#alerts.status();
    return s;
  }

  /** Stops waiting and retrying; a held slot stays held at the server. */
  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new Error("Cannot coordinate fleet: gate closed"));
    await this.#alerts?.close();
    this.#http?.close();
  }

  /** Closes the gate. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Retries until success or close. */
  async #persist(op: () => Promise<void>): Promise<void> {
    let backoff = this.#retry;
    while (!this.#closing.signal.aborted) {
      try {
        await op();
        this.#ok();
        return;
      } catch (err) {
        this.#failed(err);
        await delay(backoff, this.#closing.signal).catch(() => {});
        backoff = Math.min(backoff * 2, this.#recheck);
      }
    }
  }

  #ok(): void {
    this.#error = undefined;
  }

  #failed(err: unknown): void {
    this.#counters.errors++;
    const message = errorMessage(err);
    if (this.#error === undefined) {
      this.#log?.warn("FleetLock server unavailable; not installing until it answers", {
        err: message,
      });
      this.#error = { message, since: this.#now() };
    } else {
      this.#error.message = message;
    }
  }
}
