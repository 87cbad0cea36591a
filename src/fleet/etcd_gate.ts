/**
 * The etcd backend of FleetGate: a counting semaphore from leases and transactions,
 * canaries and soak, halts, and the host's published state.
 *
 * - The host's state (hosts/<id>) and its place in the queue (queue/<id>) are on its
 *   lease (etcd_host.ts): when the process dies both go after the TTL.
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
 *   come after the mark that lets the other hosts go. It writes none for a release
 *   that no other host waits for or runs an older one than (policy.soakVerdict).
 * - A rollback writes the halt and the host's state in one transaction: `paused`
 *   (which takes the host off the canary list) is held back while the slot is held,
 *   so no other host can become canary and get a slot between the two.
 * - With alerts (`fleet.alerts_url`): no slot while a matching alert fires or the
 *   alerts cannot be queried (asked again right before the grant), a canary's soak
 *   counts only while none fires, and an alert that begins during it halts the target
 *   (canary_soak.ts).
 * - Every failure to reach etcd is reported in status() and retried with backoff;
 *   nothing is granted without a successful transaction (fail closed). Connected
 *   means a quorum request succeeded since the last failure (etcd_host.ts).
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import { delay } from "./delay.ts";
import { alertsReason, type AlertWatch, waitForClear } from "./alert_watch.ts";
import { EtcdCanary } from "./etcd_canary.ts";
import { HostRecord } from "./etcd_host.ts";
import type { Logger } from "../log.ts";
import type { Release } from "../state/state.ts";
import { type EtcdClient, EtcdError, EtcdUnavailableError } from "./etcd.ts";
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
import { admit, queueOrder } from "./policy.ts";
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
  /** The alert gate, started and closed with the gate. */
  alerts?: AlertWatch;
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
  /** `paused` as published when the slot was granted; a change waits for the settle. */
  paused: boolean;
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
  readonly #soakMs: number;
  readonly #recheck: number;
  readonly #retry: number;
  readonly #log: Logger | undefined;
  readonly #now: () => Date;
  readonly #keys: FleetKeys;
  readonly #closing = new AbortController();
  readonly #counters: GateCounters = zeroCounters();
  readonly #alerts: AlertWatch | undefined;
  readonly #canary: EtcdCanary;
  readonly #host: HostRecord;

  #report: HostReport | undefined;
  #lastError: string | undefined;
  #holding: Holding | undefined;
  /** A settle (release, rollback, abandon) still writing to etcd; acquire waits for it. */
  #settling: Promise<void> | undefined;
  #waiting: { target: Release; since: Date; reason: string; halt?: Halt } | undefined;
  /** performance.now() when the current wait began. */
  #waitStart: number | undefined;
  #requestsBefore: number;

  /** Use openEtcdGate. */
  constructor(options: EtcdGateOptions) {
    this.id = options.id;
    this.group = options.group;
    this.#client = options.client;
    this.#closeClient = options.closeClient ?? false;
    this.#max = options.maxConcurrent ?? 1;
    this.#canaries = options.canaries ?? 1;
    this.#soakMs = options.soak ?? 0;
    this.#recheck = options.recheck ?? 30_000;
    this.#retry = options.retry ?? 1000;
    this.#log = options.logger?.with({ fleet: this.group, host: this.id });
    this.#now = options.now ?? (() => new Date());
    this.#keys = fleetKeys(this.group, this.id);
    this.#requestsBefore = this.#client.requests;
    this.#host = new HostRecord({
      client: this.#client,
      key: this.#keys.host,
      ttlSeconds: Math.max(1, Math.ceil((options.leaseTtl ?? 30_000) / 1000)),
      retry: this.#retry,
      recheck: this.#recheck,
      log: this.#log,
      now: this.#now,
      state: () => this.#state(),
      onLeaseLost: () => this.#leaseLost(),
      work: () => this.#canary.work(this.#holding !== undefined || this.#settling !== undefined),
    });
    this.#alerts = options.alerts;
    this.#canary = new EtcdCanary({
      client: this.#client,
      group: this.group,
      id: this.id,
      canaries: this.#canaries,
      soak: this.#soakMs,
      recheck: this.#recheck,
      alerts: this.#alerts,
      log: this.#log,
      now: this.#now,
      kick: () => this.#host.kick(),
      onHalt: (reason) => {
        this.#lastError = reason;
        this.#host.changed();
      },
    });
    this.#alerts?.start();
    this.#host.start();
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
      this.#host.changed();
    }
    this.#canary.report(state, state.healthy);
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
    this.#host.changed();
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
          this.#host.ok();
          if (slot !== undefined) return slot;
          backoff = this.#retry;
        } catch (err) {
          if (signal.aborted) throw signal.reason;
          if (!(err instanceof EtcdUnavailableError || err instanceof EtcdError)) throw err;
          this.#host.failed(err);
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
      this.#host.changed();
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
      connected: this.#host.connected,
      counters: liveCounters(
        { ...this.#counters, errors: this.#host.errors, alertHalts: this.#canary.alertHalts },
        this.#waitStart,
        this.#client.requests - this.#requestsBefore,
      ),
    };
    const error = this.#host.error;
    if (error) s.error = error;
    if (this.#waiting) {
      s.waiting = {
        ...this.#waiting.target,
        since: this.#waiting.since,
        reason: this.#waiting.reason,
        ...(this.#waiting.halt ? { halt: { ...this.#waiting.halt } } : {}),
      };
    }
    if (this.#holding) s.holding = { ...this.#holding.target, since: this.#holding.since };
    if (this.#alerts) s.alerts = this.#alerts.status();
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
      soak: this.#soakMs,
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
    this.#canary.stop();
    await Promise.all([this.#host.close(options.revoke ?? true), this.#alerts?.close()]);
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
    const lease = await this.#host.lease();
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
          ? `halted: ${admission.halt.reason} (${
            admission.halt.alert ? "canary soak on" : "rolled back on"
          } ${admission.halt.by})`
          : `waiting for canaries (${
            admission.canaries.join(", ")
          }) to run it for the soak time: ${admission.soaked} of ${admission.needed}`,
      );
      // Wake on anything about this target, and when a host leaves (the canaries may change).
      await this.#client.watchUntil(
        [
          { key: keys.target, prefix: true, startRevision: snap.revision + 1 },
          { key: g.hosts, prefix: true, startRevision: snap.revision + 1, filters: ["noput"] },
        ],
        signal,
        this.#recheck,
        () => true,
      );
      return undefined;
    }
    if (this.#alerts && this.#alerts.state.state !== "clear") {
      if (queued?.kind === "range" && queued.count > 0) await this.#client.delete(keys.queue);
      this.#setReason(alertsReason(this.#alerts.state));
      await waitForClear(this.#alerts, signal, this.#recheck);
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
      queueOrder(queue.map((kv) => ({ ...kv, id: keyName(kv.key) })))
        .filter((e) => e.createRevision < mine.createRevision)
        .map((e) => e.key),
    );
    if (ahead.size >= this.#max) {
      this.#setReason(`waiting for a slot: ${ahead.size - this.#max + 1} ahead in the queue`);
      let again = false;
      const done = await this.#client.watchUntil(
        [
          { key: g.queue, prefix: true, startRevision: q.revision + 1, filters: ["noput"] },
          { key: keys.halt, startRevision: q.revision + 1, filters: ["nodelete"] },
        ],
        signal,
        this.#recheck,
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

    // No alert may have begun while this host waited in the queue.
    if (this.#alerts) {
      const alerts = await this.#alerts.check(signal);
      if (alerts.state !== "clear") {
        await this.#client.delete(keys.queue);
        this.#setReason(alertsReason(alerts));
        return undefined;
      }
    }

    // Grant: not halted, and the queue key is still ours, at one revision.
    const since = this.#now();
    const state = this.#state({ ...target, since: since.toISOString() });
    const grant = await this.#host.write(() =>
      this.#client.txn({
        compare: [
          { key: keys.halt, target: "create", op: "=", value: 0 },
          { key: keys.queue, target: "lease", op: "=", value: lease },
        ],
        success: [{ put: { key: keys.host, value: JSON.stringify(state), lease } }],
      })
    );
    if (!grant.succeeded) return undefined;
    const holding: Holding = {
      target,
      since,
      lost: new AbortController(),
      paused: this.#report?.paused ?? false,
    };
    this.#holding = holding;
    if (admission.canary) this.#canary.granted(target);
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
      const writing = this.#host.persist(() =>
        this.#host.write(async () => {
          const lease = await this.#host.lease();
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
      try {
        await writing;
      } finally {
        if (this.#settling === writing) this.#settling = undefined;
      }
      if (how === "rollback") this.#counters.halts++;
      // A soak mark held back while the slot was held may be due now.
      if (this.#canary.due) this.#host.kick();
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
    if (this.#holding ? this.#holding.paused : r?.paused) state.paused = true;
    return state;
  }

  /** The lease expired: a slot held on it is lost. */
  #leaseLost(): void {
    const holding = this.#holding;
    if (holding !== undefined) {
      holding.lost.abort(
        new Error(
          `Cannot keep fleet slot for ${formatTarget(holding.target)}: the lease expired`,
        ),
      );
    }
  }

  #setReason(reason: string): void {
    if (this.#waiting) this.#waiting.reason = reason;
  }
}
