/**
 * A host's registration in etcd, for the etcd gate: its lease (granted, renewed every
 * third of its TTL, granted anew after it expired), its published state (written in
 * order, again after every change and on a new lease), a background loop that does
 * this and the gate's own periodic work, and whether coordination works.
 *
 * Connected means: a request that needs etcd's quorum (a write, a linearizable read,
 * a lease grant) succeeded after the last failure. Members that lost their quorum
 * still serve watches, serializable reads and (a leader, briefly) keep-alives, so
 * those prove nothing; while disconnected, every round of the loop asks a
 * linearizable read whether the quorum is back.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import { delay } from "./delay.ts";
import { type EtcdClient, EtcdError, EtcdUnavailableError } from "./etcd.ts";
import type { HostState } from "./layout.ts";

/** Options for HostRecord. */
export interface HostRecordOptions {
  client: EtcdClient;
  /** The host's key (hosts/<id>). */
  key: string;
  ttlSeconds: number;
  /** First wait after a failure (ms), doubling up to recheck. */
  retry: number;
  recheck: number;
  log: Logger | undefined;
  now: () => Date;
  /** The state to publish now. */
  state: () => HostState;
  /** The lease expired (etcd was unreachable for longer than its TTL). */
  onLeaseLost: () => void;
  /** More work for each round of the background loop (soak marks, halts). */
  work: () => Promise<void>;
}

/** The host's lease, published state and connection; start() begins the background loop. */
export class HostRecord {
  /** Failed requests (and rounds). */
  errors = 0;
  readonly #o: HostRecordOptions;
  readonly #closing = new AbortController();
  #loop: Promise<void> | undefined;
  #lease: string | undefined;
  #granting: Promise<string> | undefined;
  #lastKeepAlive = 0;
  #dirty = true;
  #publishing: Promise<void> | undefined;
  /** The last write of the host's state; the next one waits for it (see write). */
  #writes: Promise<void> = Promise.resolve();
  #wake: (() => void) | undefined;
  #connected = false;
  /** The client's sequence number at the last failure. */
  #failedAt = 0;
  #error: { message: string; since: Date } | undefined;

  /** @param options the client, the key and the callbacks */
  constructor(options: HostRecordOptions) {
    this.#o = options;
  }

  /** Whether a quorum request succeeded since the last failure. */
  get connected(): boolean {
    return this.#connected;
  }

  /** The failure since the last success, if any. */
  get error(): { message: string; since: Date } | undefined {
    return this.#error ? { ...this.#error } : undefined;
  }

  /** Starts the background loop. */
  start(): void {
    this.#loop ??= this.#maintain();
  }

  /** The state changed: publish it soon. */
  changed(): void {
    this.#dirty = true;
    this.kick();
  }

  /** Wakes the background loop. */
  kick(): void {
    this.#wake?.();
  }

  /** The lease, granting a new one (and re-publishing) when there is none. */
  async lease(): Promise<string> {
    if (this.#lease !== undefined) return this.#lease;
    this.#granting ??= (async () => {
      try {
        const { id } = await this.#o.client.leaseGrant(this.#o.ttlSeconds);
        this.#lease = id;
        this.#lastKeepAlive = performance.now();
        this.changed();
        return id;
      } finally {
        this.#granting = undefined;
      }
    })();
    return await this.#granting;
  }

  /**
   * Runs one write of the host's state, after the previous one has been answered: two
   * requests in flight at once may reach etcd in either order, and an older state
   * (say, still updating) must never overwrite a newer one (released).
   */
  async write<T>(write: () => Promise<T>): Promise<T> {
    const before = this.#writes;
    const done = Promise.withResolvers<void>();
    this.#writes = done.promise;
    try {
      await before;
      return await write();
    } finally {
      done.resolve();
    }
  }

  /** Retries an etcd write until it succeeds or the record closes (then gives up). */
  async persist(write: () => Promise<void>): Promise<void> {
    let backoff = this.#o.retry;
    while (true) {
      try {
        await write();
        this.ok();
        return;
      } catch (err) {
        if (!(err instanceof EtcdUnavailableError || err instanceof EtcdError)) throw err;
        this.failed(err);
        if (this.#closing.signal.aborted) return;
        await delay(backoff, this.#closing.signal).catch(() => {});
        backoff = Math.min(backoff * 2, this.#o.recheck);
      }
    }
  }

  /**
   * Marks coordination as working, if a request that needed etcd's quorum succeeded
   * since the last failure; otherwise (a watch ended, a keep-alive answered) nothing
   * changes.
   */
  ok(): void {
    if (this.#o.client.quorumSequence <= this.#failedAt) return;
    this.#connected = true;
    if (this.#error !== undefined) {
      this.#o.log?.info("fleet coordination recovered");
      this.#error = undefined;
    }
  }

  /** A request failed: not connected until a quorum request succeeds again. */
  failed(err: unknown): void {
    this.errors++;
    this.#connected = false;
    this.#failedAt = this.#o.client.sequence;
    if (err instanceof EtcdError && /lease not found/.test(err.message)) this.#leaseLost();
    const message = errorMessage(err);
    if (this.#error === undefined) {
      this.#o.log?.warn("fleet coordination unavailable; not installing until it returns", {
        err: message,
      });
      this.#error = { message, since: this.#o.now() };
    } else {
      this.#error.message = message;
    }
  }

  /** Stops the loop; revokes the lease (the host and its slot go at once) unless revoke is false. */
  async close(revoke: boolean): Promise<void> {
    this.#closing.abort(new Error("Cannot coordinate fleet: gate closed"));
    this.#wake?.();
    await this.#loop;
    if (revoke && this.#lease !== undefined) {
      await this.#o.client.leaseRevoke(this.#lease).catch(() => {});
    }
  }

  /** Background: keep the lease alive, publish the state, the gate's work, retry failures. */
  async #maintain(): Promise<void> {
    const signal = this.#closing.signal;
    const third = (this.#o.ttlSeconds * 1000) / 3;
    let backoff = this.#o.retry;
    while (!signal.aborted) {
      let wait = third;
      try {
        if (this.#lease === undefined) {
          await this.lease();
        } else if (performance.now() - this.#lastKeepAlive >= third - 50) {
          const ttl = await this.#o.client.leaseKeepAlive(this.#lease);
          this.#lastKeepAlive = performance.now();
          if (ttl <= 0) this.#leaseLost();
        }
        if (this.#lease !== undefined && this.#dirty) await this.#publish();
        await this.#o.work();
        // Without a quorum request this round, a linearizable read says whether etcd is back.
        if (!this.#connected) await this.#o.client.range(this.#o.key, { countOnly: true });
        this.ok();
        backoff = this.#o.retry;
        wait = Math.max(0, this.#lastKeepAlive + third - performance.now());
      } catch (err) {
        if (signal.aborted) break;
        if (!(err instanceof EtcdUnavailableError || err instanceof EtcdError)) {
          this.#o.log?.error("fleet coordination failed", { err: errorMessage(err) });
        }
        this.failed(err);
        wait = Math.min(backoff, third);
        backoff = Math.min(backoff * 2, this.#o.recheck);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }

  #leaseLost(): void {
    if (this.#lease === undefined) return;
    this.#o.log?.warn("fleet lease expired; registering again");
    this.#lease = undefined;
    this.#dirty = true;
    this.#o.onLeaseLost();
  }

  async #publish(): Promise<void> {
    if (this.#publishing) return await this.#publishing;
    this.#publishing = (async () => {
      try {
        while (this.#dirty && this.#lease !== undefined) {
          this.#dirty = false;
          try {
            const lease = this.#lease;
            await this.write(() =>
              this.#o.client.put(this.#o.key, JSON.stringify(this.#o.state()), { lease })
            );
          } catch (err) {
            this.#dirty = true;
            throw err;
          }
        }
      } finally {
        this.#publishing = undefined;
      }
    })();
    await this.#publishing;
  }
}
