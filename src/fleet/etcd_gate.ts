/**
 * The etcd backend of FleetGate: a counting semaphore from leases and transactions,
 * canaries and soak, halts, and the host's published state.
 *
 * - The host holds one lease, renewed every third of its TTL. Its state
 *   (hosts/<id>) and its place in the queue (queue/<id>) are attached to it, so when
 *   the process dies both disappear after the TTL and the slot frees itself.
 * - To install a target the host first asks policy.admit: not while the target is
 *   halted; canaries at once; the others after enough soak marks. Then it puts
 *   queue/<id> and holds a slot once fewer than max_concurrent queue keys are older
 *   (lower create revision). It watches only deletions in the queue, counting its
 *   predecessors down, so a release wakes waiters without a re-read.
 * - The slot is granted by a transaction that checks, at one revision, that the
 *   target is not halted and the queue key is still this host's; it writes the host
 *   state with `updating`, so etcd's history shows every install start in order.
 * - A canary writes its soak mark once it has reported the target healthy for the
 *   soak time and no longer holds the slot for it: the update cycle has released it
 *   (its own health check and soak passed), so a rollback in that cycle can never
 *   come after the mark that lets the other hosts go.
 * - Every failure to reach etcd is reported in status() and retried with backoff;
 *   nothing is granted without a successful transaction (fail closed).
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import { delay } from "./delay.ts";
import type { Logger } from "../log.ts";
import type { Release } from "../state.ts";
import {
  type EtcdClient,
  EtcdError,
  EtcdUnavailableError,
  type KeyValue,
  type WatchBatch,
  type WatchSpec,
} from "./etcd.ts";
import {
  type AcquireOptions,
  type FleetGate,
  type FleetSlot,
  type GateCounters,
  type GateStatus,
  type HostReport,
  liveCounters,
} from "./gate.ts";
import {
  canaryCandidates,
  type FleetKeys,
  fleetKeys,
  formatTarget,
  groupKeys,
  type Halt,
  type HostState,
  keyName,
  parseHalt,
  type QueueEntry,
} from "./layout.ts";
import { admit, canaries, queueOrder } from "./policy.ts";
import { type FleetStatus, readFleetStatus, resumeFleet } from "./status.ts";

/** Options for openEtcdGate. */
export interface EtcdGateOptions {
  /** The client. */
  client: EtcdClient;
  /** Close the client with the gate. @default false */
  closeClient?: boolean;
  /** Rollout group. */
  group: string;
  /** This host's id, unique in the group. */
  id: string;
  /** Hosts that may install at once. @default 1 */
  maxConcurrent?: number;
  /** Hosts that install a target first. @default 1 */
  canaries?: number;
  /** How long canaries must run a target healthily before the rest follow (ms). @default 0 */
  soak?: number;
  /** TTL of the host's lease (ms, rounded up to seconds; etcd's minimum applies). @default 30000 */
  leaseTtl?: number;
  /** Longest wait before re-reading while waiting (ms). @default 30000 */
  recheck?: number;
  /** First wait after a failed request (ms), doubling up to recheck. @default 1000 */
  retry?: number;
  logger?: Logger;
  /** Wall clock for published times. @default () => new Date() */
  now?: () => Date;
}

/** Options for EtcdGate.close. */
export interface CloseOptions {
  /**
   * Revoke the lease, withdrawing the host and any slot at once. false leaves them
   * to expire after the TTL, as when the process is killed.
   * @default true
   */
  revoke?: boolean;
}

interface Holding {
  target: Release;
  since: Date;
  lost: AbortController;
}

/** Opens an etcd gate; it registers the host in the background at once. */
export function openEtcdGate(options: EtcdGateOptions): EtcdGate {
  return new EtcdGate(options);
}

/** The etcd backend of FleetGate. */
export class EtcdGate implements FleetGate {
  readonly id: string;
  readonly group: string;
  readonly #client: EtcdClient;
  readonly #closeClient: boolean;
  readonly #max: number;
  readonly #canaries: number;
  readonly #soak: number;
  readonly #ttlSeconds: number;
  readonly #recheck: number;
  readonly #retry: number;
  readonly #log: Logger | undefined;
  readonly #now: () => Date;
  readonly #keys: FleetKeys;
  readonly #closing = new AbortController();
  readonly #counters: GateCounters = { slots: 0, waitMs: 0, halts: 0, errors: 0, requests: 0 };
  readonly #background: Promise<void>;

  #lease: string | undefined;
  #granting: Promise<string> | undefined;
  #report: HostReport | undefined;
  #lastError: string | undefined;
  #dirty = true;
  #publishing: Promise<void> | undefined;
  #holding: Holding | undefined;
  /** A settle (release, rollback, abandon) still writing to etcd; acquire waits for it. */
  #settling: Promise<void> | undefined;
  #waiting: { target: Release; since: Date; reason: string; halt?: Halt } | undefined;
  #error: { message: string; since: Date } | undefined;
  /** performance.now() when the current wait began. */
  #waitStart: number | undefined;
  #soakTimer:
    | {
      name: string;
      target: Release;
      timer: ReturnType<typeof setTimeout> | undefined;
      done: boolean;
    }
    | undefined;
  #wake: (() => void) | undefined;
  /** The last write of the host's state; the next one waits for it (see #hostWrite). */
  #hostWrites: Promise<void> = Promise.resolve();
  #requestsBefore: number;

  /** Use openEtcdGate. */
  constructor(options: EtcdGateOptions) {
    this.id = options.id;
    this.group = options.group;
    this.#client = options.client;
    this.#closeClient = options.closeClient ?? false;
    this.#max = options.maxConcurrent ?? 1;
    this.#canaries = options.canaries ?? 1;
    this.#soak = options.soak ?? 0;
    this.#ttlSeconds = Math.max(1, Math.ceil((options.leaseTtl ?? 30_000) / 1000));
    this.#recheck = options.recheck ?? 30_000;
    this.#retry = options.retry ?? 1000;
    this.#log = options.logger?.with({ fleet: this.group, host: this.id });
    this.#now = options.now ?? (() => new Date());
    this.#keys = fleetKeys(this.group, this.id);
    this.#requestsBefore = this.#client.requests;
    this.#background = this.#maintain();
  }

  /** Publishes the running version and health, and starts or stops the soak timer. */
  report(state: HostReport): void {
    const prev = this.#report;
    this.#report = { ...state, paused: state.paused ?? prev?.paused ?? false };
    if (state.lastError !== undefined) this.#lastError = state.lastError || undefined;
    if (
      prev?.version !== state.version || prev.goVersion !== state.goVersion ||
      prev.healthy !== state.healthy || state.lastError !== undefined ||
      (prev.paused ?? false) !== this.#report.paused
    ) {
      this.#dirty = true;
      this.#kick();
    }
    this.#trackSoak(state);
  }

  /** Waits for a slot for target; see FleetGate. */
  async acquire(target: Release, options: AcquireOptions = {}): Promise<FleetSlot> {
    if (this.#holding !== undefined) {
      throw new Error(
        `Cannot acquire fleet slot for ${formatTarget(target)}: this host already holds one for ${
          formatTarget(this.#holding.target)
        }`,
      );
    }
    if (this.#waiting !== undefined) {
      throw new Error(
        `Cannot acquire fleet slot for ${formatTarget(target)}: already waiting for ${
          formatTarget(this.#waiting.target)
        }`,
      );
    }
    const signal = options.signal
      ? AbortSignal.any([options.signal, this.#closing.signal])
      : this.#closing.signal;
    const since = this.#now();
    const t0 = performance.now();
    this.#waitStart = t0;
    this.#waiting = { target, since, reason: "starting" };
    this.#dirty = true;
    this.#kick();
    const keys = fleetKeys(this.group, this.id, target);
    let backoff = this.#retry;
    try {
      // Its deletion of the queue key must not hit the key this acquire puts.
      if (this.#settling) this.#setReason("finishing the previous update's release");
      await this.#settling;
      while (true) {
        signal.throwIfAborted();
        try {
          const slot = await this.#attempt(target, keys, signal);
          this.#ok();
          if (slot !== undefined) return slot;
          backoff = this.#retry;
        } catch (err) {
          if (signal.aborted) throw signal.reason;
          if (!(err instanceof EtcdUnavailableError || err instanceof EtcdError)) throw err;
          this.#failed(err);
          this.#setReason(`etcd: ${errorMessage(err)}`);
          await delay(backoff, signal);
          backoff = Math.min(backoff * 2, this.#recheck);
        }
      }
    } catch (err) {
      // Leave the queue; if etcd is unreachable the lease takes the key with it.
      await this.#client.delete(keys.queue).catch(() => {});
      throw err;
    } finally {
      this.#waiting = undefined;
      this.#dirty = true;
      this.#kick();
      this.#counters.waitMs += performance.now() - t0;
      this.#waitStart = undefined;
    }
  }

  /** A snapshot of what the gate is doing. */
  status(): GateStatus {
    const s: GateStatus = {
      backend: "etcd",
      id: this.id,
      group: this.group,
      connected: this.#error === undefined,
      counters: liveCounters(
        this.#counters,
        this.#waitStart,
        this.#client.requests - this.#requestsBefore,
      ),
    };
    if (this.#error) s.error = { ...this.#error };
    if (this.#waiting) {
      s.waiting = {
        ...this.#waiting.target,
        since: this.#waiting.since,
        reason: this.#waiting.reason,
        ...(this.#waiting.halt ? { halt: { ...this.#waiting.halt } } : {}),
      };
    }
    if (this.#holding) s.holding = { ...this.#holding.target, since: this.#holding.since };
    return s;
  }

  /**
   * The group as etcd holds it, read from one member without a quorum round (so it
   * says nothing about whether coordination works; status() does).
   */
  readGroup(): Promise<FleetStatus> {
    return readFleetStatus(this.#client, {
      group: this.group,
      maxConcurrent: this.#max,
      canaries: this.#canaries,
      soak: this.#soak,
    }, { serializable: true });
  }

  /** Lifts halts of version (all when absent); see resumeFleet. */
  async resume(version?: string): Promise<Halt[]> {
    const removed = await resumeFleet(this.#client, this.group, version);
    for (const h of removed) {
      this.#log?.info("fleet halt lifted", { target: formatTarget(h), haltedby: h.by });
    }
    return removed;
  }

  /** Stops the gate; by default revokes the lease so the host and its slot go at once. */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new Error("Cannot coordinate fleet: gate closed"));
    if (this.#soakTimer?.timer !== undefined) clearTimeout(this.#soakTimer.timer);
    this.#wake?.();
    await this.#background;
    if ((options.revoke ?? true) && this.#lease !== undefined) {
      await this.#client.leaseRevoke(this.#lease).catch(() => {});
    }
    if (this.#closeClient) this.#client.close();
  }

  /** Closes the gate. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * One round: read the target's state, queue when admitted, wait for a slot, grant.
   * Returns undefined to go round again (after something changed).
   */
  async #attempt(
    target: Release,
    keys: FleetKeys,
    signal: AbortSignal,
  ): Promise<FleetSlot | undefined> {
    const lease = await this.#ensureLease();
    const g = groupKeys(this.group);
    const snap = await this.#client.txn({
      compare: [],
      success: [
        { range: { key: keys.halt } },
        { range: { key: keys.soaked, prefix: true, countOnly: true } },
        { range: { key: keys.queue, keysOnly: true } },
      ],
    });
    const [haltRange, soakedRange, queued] = snap.results;
    const haltKv = haltRange?.kind === "range" ? haltRange.kvs[0] : undefined;
    const halt = haltKv ? parseHalt(haltKv.value) : undefined;
    const soaked = soakedRange?.kind === "range" ? soakedRange.count : 0;
    // The hosts (to choose the canaries) only while the canaries have not soaked the
    // target: once they have, the rest of a large group wakes at once and need not
    // each read every host's state.
    const hostIds = halt === undefined && soaked < this.#canaries
      ? canaryCandidates((await this.#client.range(g.hosts, { prefix: true })).kvs)
      : [];
    const admission = admit(
      { hostIds, soaked, ...(halt ? { halt } : {}) },
      this.id,
      this.#canaries,
    );
    if (this.#waiting) {
      if (admission.kind === "halted") this.#waiting.halt = admission.halt;
      else delete this.#waiting.halt;
    }
    if (admission.kind !== "go") {
      if (queued?.kind === "range" && queued.count > 0) await this.#client.delete(keys.queue);
      this.#setReason(
        admission.kind === "halted"
          ? `halted: ${admission.halt.reason} (rolled back on ${admission.halt.by})`
          : `waiting for canaries (${
            admission.canaries.join(", ")
          }) to run it for the soak time: ${admission.soaked} of ${admission.needed}`,
      );
      // Wake on anything about this target, and when a host leaves (the canaries may change).
      await this.#watchUntil(
        [
          { key: keys.target, prefix: true, startRevision: snap.revision + 1 },
          { key: g.hosts, prefix: true, startRevision: snap.revision + 1, filters: ["noput"] },
        ],
        signal,
        () => true,
      );
      return undefined;
    }

    // Queue (a put keeps the create revision when the key exists: a restarted host keeps its place).
    const entry: QueueEntry = {
      id: this.id,
      version: target.version,
      goVersion: target.goVersion,
      since: this.#waiting?.since.toISOString() ?? this.#now().toISOString(),
    };
    const q = await this.#client.txn({
      compare: [],
      success: [
        { put: { key: keys.queue, value: JSON.stringify(entry), lease } },
        { range: { key: g.queue, prefix: true, keysOnly: true } },
      ],
    });
    const queue = q.results[1]?.kind === "range" ? q.results[1].kvs : [];
    const mine = queue.find((kv) => kv.key === keys.queue);
    if (mine === undefined) return undefined;
    const ahead = new Set(
      queueOrder(queue.map(queuedOf)).filter((e) => e.createRevision < mine.createRevision)
        .map((e) => e.key),
    );
    if (ahead.size >= this.#max) {
      this.#setReason(`waiting for a slot: ${ahead.size - this.#max + 1} ahead in the queue`);
      let again = false;
      const done = await this.#watchUntil(
        [
          { key: g.queue, prefix: true, startRevision: q.revision + 1, filters: ["noput"] },
          { key: keys.halt, startRevision: q.revision + 1, filters: ["nodelete"] },
        ],
        signal,
        (batch) => {
          if (batch.watch === 1 || batch.compactRevision !== undefined) {
            again = true;
            return true;
          }
          for (const ev of batch.events) {
            if (ev.kv.key === keys.queue) again = true;
            ahead.delete(ev.kv.key);
          }
          this.#setReason(
            `waiting for a slot: ${Math.max(0, ahead.size - this.#max + 1)} ahead in the queue`,
          );
          return again || ahead.size < this.#max;
        },
      );
      if (!done || again) return undefined;
    }

    // Grant: not halted, and the queue key is still ours, at one revision.
    const since = this.#now();
    const state = this.#state({ ...target, since: since.toISOString() });
    const grant = await this.#hostWrite(() =>
      this.#client.txn({
        compare: [
          { key: keys.halt, target: "create", op: "=", value: 0 },
          { key: keys.queue, target: "lease", op: "=", value: lease },
        ],
        success: [{ put: { key: keys.host, value: JSON.stringify(state), lease } }],
      })
    );
    if (!grant.succeeded) return undefined;
    const holding: Holding = { target, since, lost: new AbortController() };
    this.#holding = holding;
    this.#counters.slots++;
    this.#log?.info("fleet slot taken", { target: formatTarget(target) });
    return this.#slot(holding, keys);
  }

  #slot(holding: Holding, keys: FleetKeys): FleetSlot {
    let settled = false;
    const settle = async (how: "release" | "rollback" | "abandon", text: string) => {
      if (settled) return;
      settled = true;
      if (how !== "release") this.#lastError = text;
      else this.#lastError = undefined;
      const halt: Halt = {
        version: holding.target.version,
        goVersion: holding.target.goVersion,
        by: this.id,
        reason: text,
        at: this.#now().toISOString(),
      };
      if (this.#holding === holding) this.#holding = undefined;
      const writing = this.#persist(() =>
        this.#hostWrite(async () => {
          const lease = await this.#ensureLease();
          const common = [
            { delete: { key: keys.queue } },
            { put: { key: keys.host, value: JSON.stringify(this.#state()), lease } },
          ];
          if (how === "rollback") {
            // Keep the first reason when several hosts halt the same target.
            await this.#client.txn({
              compare: [{ key: keys.halt, target: "create", op: "=", value: 0 }],
              success: [{ put: { key: keys.halt, value: JSON.stringify(halt) } }, ...common],
              failure: common,
            });
          } else {
            await this.#client.txn({ compare: [], success: common });
          }
        })
      );
      this.#settling = writing;
      await writing;
      if (this.#settling === writing) this.#settling = undefined;
      if (how === "rollback") this.#counters.halts++;
      // A soak mark held back while the slot was held may be due now.
      if (this.#soakTimer?.done) this.#kick();
      this.#log?.info(
        `fleet slot ${
          how === "release"
            ? "released"
            : how === "rollback"
            ? "released, target halted"
            : "abandoned"
        }`,
        {
          target: formatTarget(holding.target),
          ...(how === "release" ? {} : { reason: text }),
        },
      );
    };
    return {
      target: holding.target,
      signal: holding.lost.signal,
      release: () => settle("release", ""),
      rollback: (reason) => settle("rollback", reason),
      abandon: (error) => settle("abandon", error),
    };
  }

  /**
   * Runs one write of the host's state, after the previous one has been answered: two
   * requests in flight at once may reach etcd in either order, and an older state
   * (say, still updating) must never overwrite a newer one (released).
   */
  async #hostWrite<T>(write: () => Promise<T>): Promise<T> {
    const before = this.#hostWrites;
    let done: () => void = () => {};
    this.#hostWrites = new Promise<void>((resolve) => done = resolve);
    try {
      await before;
      return await write();
    } finally {
      done();
    }
  }

  /** Retries an etcd write until it succeeds or the gate closes (then one last try). */
  async #persist(write: () => Promise<void>): Promise<void> {
    let backoff = this.#retry;
    while (true) {
      try {
        await write();
        this.#ok();
        return;
      } catch (err) {
        if (!(err instanceof EtcdUnavailableError || err instanceof EtcdError)) throw err;
        this.#failed(err);
        if (this.#closing.signal.aborted) return;
        await delay(backoff, this.#closing.signal).catch(() => {});
        backoff = Math.min(backoff * 2, this.#recheck);
      }
    }
  }

  /** The host state to publish, from the last report and the slot. */
  #state(updating?: Release & { since: string }): HostState {
    const r = this.#report;
    const state: HostState = {
      id: this.id,
      version: r?.version ?? "",
      goVersion: r?.goVersion ?? "",
      healthy: r?.healthy ?? false,
      at: this.#now().toISOString(),
    };
    const u = updating ??
      (this.#holding
        ? { ...this.#holding.target, since: this.#holding.since.toISOString() }
        : undefined);
    if (u) state.updating = u;
    else if (this.#waiting) {
      state.waiting = { ...this.#waiting.target, since: this.#waiting.since.toISOString() };
    }
    if (this.#lastError) state.lastError = this.#lastError;
    if (r?.paused) state.paused = true;
    return state;
  }

  /** The lease, granting a new one (and re-publishing) when there is none. */
  async #ensureLease(): Promise<string> {
    if (this.#lease !== undefined) return this.#lease;
    this.#granting ??= (async () => {
      try {
        const { id } = await this.#client.leaseGrant(this.#ttlSeconds);
        this.#lease = id;
        this.#lastKeepAlive = performance.now();
        this.#dirty = true;
        this.#kick();
        return id;
      } finally {
        this.#granting = undefined;
      }
    })();
    return await this.#granting;
  }

  /** Background: keep the lease alive, publish the state, write soak marks, retry failures. */
  async #maintain(): Promise<void> {
    const signal = this.#closing.signal;
    let backoff = this.#retry;
    while (!signal.aborted) {
      let wait = (this.#ttlSeconds * 1000) / 3;
      try {
        if (this.#lease === undefined) {
          await this.#ensureLease();
        } else if (this.#dueKeepAlive()) {
          const ttl = await this.#client.leaseKeepAlive(this.#lease);
          this.#lastKeepAlive = performance.now();
          if (ttl <= 0) this.#leaseLost();
        }
        if (this.#lease !== undefined && this.#dirty) await this.#publish();
        if (this.#soakTimer?.done) await this.#markSoaked();
        this.#ok();
        backoff = this.#retry;
        wait = Math.max(0, this.#lastKeepAlive + (this.#ttlSeconds * 1000) / 3 - performance.now());
      } catch (err) {
        if (signal.aborted) break;
        if (!(err instanceof EtcdUnavailableError || err instanceof EtcdError)) {
          this.#log?.error("fleet coordination failed", { err });
        }
        this.#failed(err);
        wait = Math.min(backoff, (this.#ttlSeconds * 1000) / 3);
        backoff = Math.min(backoff * 2, this.#recheck);
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

  #lastKeepAlive = 0;

  #dueKeepAlive(): boolean {
    return performance.now() - this.#lastKeepAlive >= (this.#ttlSeconds * 1000) / 3 - 50;
  }

  /** Wakes the background loop (new state to publish, soak mark due). */
  #kick(): void {
    this.#wake?.();
  }

  #leaseLost(): void {
    if (this.#lease === undefined) return;
    this.#log?.warn("fleet lease expired; registering again");
    this.#lease = undefined;
    this.#dirty = true;
    const holding = this.#holding;
    if (holding !== undefined) {
      holding.lost.abort(
        new Error(
          `Cannot keep fleet slot for ${formatTarget(holding.target)}: the lease expired`,
        ),
      );
    }
  }

  async #publish(): Promise<void> {
    if (this.#publishing) return await this.#publishing;
    this.#publishing = (async () => {
      try {
        while (this.#dirty && this.#lease !== undefined) {
          this.#dirty = false;
          try {
            const lease = this.#lease;
            await this.#hostWrite(() =>
              this.#client.put(this.#keys.host, JSON.stringify(this.#state()), { lease })
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

  #trackSoak(state: HostReport): void {
    if (this.#canaries <= 0) return;
    const name = `${state.version}@${state.goVersion}`;
    if (!state.healthy) {
      if (this.#soakTimer?.timer !== undefined) clearTimeout(this.#soakTimer.timer);
      this.#soakTimer = undefined;
      return;
    }
    if (this.#soakTimer?.name === name) return;
    if (this.#soakTimer?.timer !== undefined) clearTimeout(this.#soakTimer.timer);
    const soak = {
      name,
      target: { version: state.version, goVersion: state.goVersion },
      timer: undefined as ReturnType<typeof setTimeout> | undefined,
      done: false,
    };
    soak.timer = setTimeout(() => {
      soak.timer = undefined;
      soak.done = true;
      this.#kick();
    }, this.#soak);
    this.#soakTimer = soak;
  }

  /**
   * Writes this host's soak mark for the running target, if it is a canary; not
   * while the update cycle still holds a slot (it has not finished its own checks).
   */
  async #markSoaked(): Promise<void> {
    const soak = this.#soakTimer;
    if (soak === undefined || !soak.done || this.#holding !== undefined || this.#settling) return;
    const keys = fleetKeys(this.group, this.id, soak.target);
    const g = groupKeys(this.group);
    const read = await this.#client.txn({
      compare: [],
      success: [
        { range: { key: g.hosts, prefix: true } },
        { range: { key: keys.soaked, prefix: true, countOnly: true } },
      ],
    });
    const hostIds = read.results[0]?.kind === "range" ? canaryCandidates(read.results[0].kvs) : [];
    const count = read.results[1]?.kind === "range" ? read.results[1].count : 0;
    if (
      count < this.#canaries && canaries([...hostIds, this.id], this.#canaries).includes(this.id)
    ) {
      await this.#client.put(
        keys.soakedMine,
        JSON.stringify({ id: this.id, at: this.#now().toISOString() }),
      );
      this.#log?.info("fleet canary soaked", { target: formatTarget(soak.target) });
    }
    if (this.#soakTimer === soak) soak.done = false;
  }

  /**
   * Watches until onBatch returns true (resolves true), the recheck time passes or the
   * stream ends (resolves false).
   */
  async #watchUntil(
    specs: WatchSpec[],
    signal: AbortSignal,
    onBatch: (batch: WatchBatch) => boolean,
  ): Promise<boolean> {
    const timeout = AbortSignal.timeout(this.#recheck);
    const stop = AbortSignal.any([signal, timeout]);
    try {
      for await (const batch of this.#client.watch(specs, stop)) {
        if (onBatch(batch)) return true;
      }
    } catch (err) {
      if (stop.aborted) return false;
      throw err;
    }
    signal.throwIfAborted();
    return false;
  }

  #setReason(reason: string): void {
    if (this.#waiting) this.#waiting.reason = reason;
  }

  #ok(): void {
    if (this.#error !== undefined) {
      this.#log?.info("fleet coordination recovered");
      this.#error = undefined;
    }
  }

  #failed(err: unknown): void {
    this.#counters.errors++;
    if (err instanceof EtcdError && /lease not found/.test(err.message)) this.#leaseLost();
    const message = errorMessage(err);
    if (this.#error === undefined) {
      this.#log?.warn("fleet coordination unavailable; not installing until it returns", {
        err: message,
      });
      this.#error = { message, since: this.#now() };
    } else {
      this.#error.message = message;
    }
  }
}

function queuedOf(kv: KeyValue): { key: string; id: string; createRevision: number } {
  return { key: kv.key, id: keyName(kv.key), createRevision: kv.createRevision };
}
