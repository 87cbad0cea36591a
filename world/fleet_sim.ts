/**
 * Simulated hosts for the fleet tests and benchmark: each is the real coordination
 * code (an EtcdGate with its own EtcdClient and lease) driving a pretend update
 * cycle: report the running version, acquire a slot, "install" (a short pause), then
 * report the new version healthy and release, or roll back. Also reads a group's
 * history from etcd's revision log and checks the rollout rules against it.
 *
 * @module
 */

import { EtcdClient } from "../src/fleet/etcd.ts";
import { type EtcdGate, openEtcdGate } from "../src/fleet/etcd_gate.ts";
import type { FleetSlot } from "../src/fleet/gate.ts";
import { AlertSource } from "../src/fleet/alerts.ts";
import { AlertWatch } from "../src/fleet/alert_watch.ts";
import { parseMatchers } from "../src/fleet/matchers.ts";
import {
  groupKeys,
  keyName,
  parseHostState,
  parseTargetName,
  targetName,
} from "../src/fleet/layout.ts";
import type { Release } from "../src/state/state.ts";
import { canaries } from "../src/fleet/policy.ts";
import { assert, assertEquals } from "../tests/_assert.ts";

/** Settings shared by the simulated hosts of a group. */
export interface SimSettings {
  endpoints: string[];
  group: string;
  maxConcurrent: number;
  canaries: number;
  /** ms */
  soak: number;
  /** ms */
  leaseTtl: number;
  /** ms; short in tests so a stalled watch is noticed. */
  recheck?: number;
  /** ms */
  retry?: number;
  requestTimeout?: number;
  /** The alert gate: Prometheus or Alertmanager at url, queried every interval ms. */
  alerts?: { url: string; match?: string; interval?: number };
}

/** One simulated host. */
export interface SimHost extends AsyncDisposable {
  id: string;
  gate: EtcdGate;
  client: EtcdClient;
  /** The version the pretend service runs. */
  running: Release;
  /** Targets installed, in order (what "installed" means in these tests). */
  installed: Release[];
  /** Runs one update to target; resolves with what happened. */
  update(
    target: Release,
    options?: { installMs?: number; fail?: boolean; signal?: AbortSignal },
  ): Promise<"installed" | "rolled back">;
}

/** Starts a simulated host running `running`. */
export function simHost(id: string, running: Release, s: SimSettings): SimHost {
  const client = new EtcdClient({
    endpoints: s.endpoints,
    ...(s.requestTimeout ? { requestTimeout: s.requestTimeout } : {}),
  });
  const gate = openEtcdGate({
    client,
    closeClient: true,
    group: s.group,
    id,
    maxConcurrent: s.maxConcurrent,
    canaries: s.canaries,
    soak: s.soak,
    leaseTtl: s.leaseTtl,
    recheck: s.recheck ?? 3000,
    retry: s.retry ?? 200,
    ...(s.alerts
      ? {
        alerts: new AlertWatch(
          new AlertSource({ url: s.alerts.url, matchers: parseMatchers(s.alerts.match ?? "") }),
          { interval: s.alerts.interval ?? 300 },
        ),
      }
      : {}),
  });
  const host: SimHost = {
    id,
    gate,
    client,
    running,
    installed: [],
    async update(target, options = {}) {
      const slot: FleetSlot = await gate.acquire(target, {
        ...(options.signal ? { signal: options.signal } : {}),
      });
      // The pretend install and health check take a moment, so that slots overlap.
      await new Promise((r) => setTimeout(r, options.installMs ?? 50));
      if (options.fail) {
        // As the update cycle does: the old version runs again, automatic updates pause,
        // and the slot is settled once the old version is back up, a moment later.
        gate.report({
          ...host.running,
          healthy: true,
          lastError: "new version failed its health check",
          paused: true,
        });
        await new Promise((r) => setTimeout(r, options.installMs ?? 50));
        await slot.rollback(`${target.version} failed its health check`);
        return "rolled back";
      }
      host.installed.push(target);
      host.running = target;
      gate.report({ ...target, healthy: true, lastError: "", paused: false });
      await slot.release();
      return "installed";
    },
    async [Symbol.asyncDispose]() {
      await gate.close();
    },
  };
  gate.report({ ...running, healthy: true });
  return host;
}

/**
 * Starts n simulated hosts (host-0, host-1, ...) running `running`, and waits until
 * every one is registered, so that none decides who the canaries are before all are.
 */
export async function simGroup(
  n: number,
  running: Release,
  s: SimSettings,
): Promise<SimHost[] & AsyncDisposable> {
  const list = Array.from({ length: n }, (_, i) => simHost(`host-${i}`, running, s));
  await using client = new EtcdClient({ endpoints: s.endpoints });
  await waitFor(
    async () =>
      (await client.range(groupKeys(s.group).hosts, { prefix: true, countOnly: true })).count ===
        n,
    () => `${n} hosts registered`,
  );
  return Object.assign(list, {
    async [Symbol.asyncDispose]() {
      await Promise.all(list.map((h) => h[Symbol.asyncDispose]()));
    },
  });
}

/** One change in a group's history. */
export interface HistoryEvent {
  revision: number;
  type: "put" | "delete";
  key: string;
  value: string;
  createRevision: number;
}

/** Every change under the group's prefix since the cluster started, in revision order. */
export async function readHistory(client: EtcdClient, group: string): Promise<HistoryEvent[]> {
  const prefix = groupKeys(group).prefix;
  const marks = `${prefix}~end/`;
  const end = `${marks}${crypto.randomUUID()}`;
  await client.put(end, String(Date.now()));
  const events: HistoryEvent[] = [];
  const stop = new AbortController();
  for await (
    const batch of client.watch([{ key: prefix, prefix: true, startRevision: 1 }], stop.signal)
  ) {
    for (const ev of batch.events) {
      if (ev.kv.key === end) {
        stop.abort();
        break;
      }
      if (ev.kv.key.startsWith(marks)) continue;
      events.push({
        revision: ev.kv.modRevision,
        type: ev.type,
        key: ev.kv.key,
        value: ev.kv.value,
        createRevision: ev.kv.createRevision,
      });
    }
    if (stop.signal.aborted) break;
  }
  stop.abort();
  await client.delete(end);
  return events;
}

/** An install start found in the history: a host state put that begins `updating`. */
export interface InstallStart {
  revision: number;
  id: string;
  target: Release;
  /** Hosts updating at that revision, this one included. */
  concurrent: number;
  /** The host's place in the queue at that revision (0-based). */
  queuePosition: number;
}

/** What the history shows about a rollout. */
export interface RolloutHistory {
  starts: InstallStart[];
  /** Largest number of hosts updating at one revision. */
  maxConcurrent: number;
  /** Revisions of soak marks per target name. */
  soaked: Map<string, Array<{ revision: number; id: string }>>;
  /** Revisions at which halts were written, per target name. */
  halts: Map<string, number[]>;
}

/** Replays a group's history: install starts, concurrency, soak marks, halts. */
export function replay(events: HistoryEvent[], group: string): RolloutHistory {
  const g = groupKeys(group);
  const updating = new Map<string, string>();
  const queue = new Map<string, number>();
  const starts: InstallStart[] = [];
  const soaked = new Map<string, Array<{ revision: number; id: string }>>();
  const halts = new Map<string, number[]>();
  let max = 0;
  for (const ev of events) {
    if (ev.key.startsWith(g.queue)) {
      if (ev.type === "put") queue.set(ev.key, ev.createRevision);
      else queue.delete(ev.key);
    } else if (ev.key.startsWith(g.hosts)) {
      const id = keyName(ev.key);
      const state = ev.type === "put" ? parseHostState(ev.value) : undefined;
      const was = updating.get(id);
      const now = state?.updating ? targetName(state.updating) : undefined;
      if (now === undefined) updating.delete(id);
      else updating.set(id, now);
      if (now !== undefined && state?.updating && was !== now) {
        const mine = queue.get(g.queue + encodeURIComponent(id));
        const position = mine === undefined
          ? -1
          : [...queue.values()].filter((r) => r < mine).length;
        starts.push({
          revision: ev.revision,
          id,
          target: { version: state.updating.version, goVersion: state.updating.goVersion },
          concurrent: updating.size,
          queuePosition: position,
        });
      }
      max = Math.max(max, updating.size);
    } else if (ev.key.startsWith(g.targets) && ev.type === "put") {
      const rest = ev.key.slice(g.targets.length);
      const name = rest.slice(0, rest.indexOf("/"));
      if (parseTargetName(name) === undefined) continue;
      if (rest.endsWith("/halt")) halts.set(name, [...(halts.get(name) ?? []), ev.revision]);
      else if (rest.includes("/soaked/")) {
        soaked.set(name, [...(soaked.get(name) ?? []), {
          revision: ev.revision,
          id: keyName(ev.key),
        }]);
      }
    }
  }
  return { starts, maxConcurrent: max, soaked, halts };
}

/** The settings checkRollout checks against. */
export interface RolloutRules {
  group: string;
  maxConcurrent: number;
  /** 1: the first host in canary order goes first, the rest after its soak mark. */
  canaries: number;
}

/**
 * Checks the rules of a rollout of target to the hosts `ids` from etcd's history:
 * each installed it once; the canary (the first of ids in canary order) first and
 * alone, the others only after its soak mark; never more than maxConcurrent at
 * once and that many at some point; each from a slot-holding place in the queue.
 * Installs by hosts not in ids are left out. Returns the replayed history.
 */
export async function checkRollout(
  endpoints: string[],
  rules: RolloutRules,
  ids: string[],
  target: Release,
): Promise<RolloutHistory> {
  await using client = new EtcdClient({ endpoints });
  const h = replay(await readHistory(client, rules.group), rules.group);
  const starts = h.starts.filter((x) =>
    targetName(x.target) === targetName(target) && ids.includes(x.id)
  );
  assertEquals(starts.map((x) => x.id).sort(), [...ids].sort(), "every host installed once");
  const [canary] = canaries(ids, rules.canaries);
  assertEquals(starts[0]?.id, canary, "the canary installs first");
  const marks = (h.soaked.get(targetName(target)) ?? []).filter((m) => ids.includes(m.id));
  assertEquals(marks.map((m) => m.id), [canary], "the canary reported the soak");
  const mark = marks[0]?.revision ?? Infinity;
  assert((starts[0]?.revision ?? 0) < mark, "the canary's soak mark comes after its install");
  for (const x of starts.slice(1)) {
    assert(
      x.revision > mark,
      `${x.id} started at revision ${x.revision}, before the soak mark ${mark}`,
    );
  }
  for (const x of starts) {
    assert(x.concurrent <= rules.maxConcurrent, `${x.id}: ${x.concurrent} updating at once`);
    assert(
      x.queuePosition >= 0 && x.queuePosition < rules.maxConcurrent,
      `${x.id} started at queue position ${x.queuePosition}`,
    );
  }
  assertEquals(
    Math.max(...starts.map((x) => x.concurrent)),
    Math.min(rules.maxConcurrent, ids.length - 1),
    "the slots were used in parallel",
  );
  return h;
}

/**
 * A promise the test awaits later, or never when it fails before: its rejection (say,
 * "gate closed" when the hosts close at the end) is handled at once, so it cannot end
 * the test run as an uncaught rejection and hide the real failure.
 */
export function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Polls cond every 50 ms until it is true; throws with what() after the deadline. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: () => string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
