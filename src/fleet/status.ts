/**
 * The operator's view of a fleet group, read from etcd at one revision: hosts with
 * their versions and health, slot holders and the queue, canaries, soak marks and
 * halts (what `ysco fleet status` and the admin page show), and resuming halted
 * targets (`ysco fleet resume`).
 *
 * @module
 */

import { formatDuration } from "../duration.ts";
import type { Release } from "../state/state.ts";
import { type EtcdClient, EtcdUnavailableError, type MemberStatus } from "./etcd.ts";
import { errorMessage } from "../errors.ts";
import {
  fleetKeys,
  formatTarget,
  groupKeys,
  type Halt,
  type HostState,
  keyName,
  parseHalt,
  parseHostState,
  parseQueueEntry,
  parseTargetName,
  type QueueEntry,
} from "./layout.ts";
import { canaries, queueOrder } from "./policy.ts";

/** A host as the status shows it. */
export interface HostStatus extends HostState {
  canary: boolean;
  /** Whether the host holds a slot now. */
  holdsSlot: boolean;
}

/** A queued host. */
export interface QueueStatus extends QueueEntry {
  /** 0-based place in the queue; below max_concurrent holds a slot. */
  position: number;
  holdsSlot: boolean;
}

/** What is known about one target. */
export interface TargetStatus extends Release {
  halt?: Halt;
  /** Hosts that reported it healthy for the soak time. */
  soaked: string[];
}

/** A group's state. */
export interface FleetStatus {
  group: string;
  /** etcd revision the status was read at. */
  revision: number;
  maxConcurrent: number;
  canaryCount: number;
  /** Soak time in ms. */
  soak: number;
  /** Canary ids, in canary order. */
  canaries: string[];
  hosts: HostStatus[];
  queue: QueueStatus[];
  targets: TargetStatus[];
}

/** The settings that decide holders and canaries (from the reader's configuration). */
export interface StatusSettings {
  group: string;
  maxConcurrent: number;
  canaries: number;
  /** ms */
  soak: number;
}

/** Options for readFleetStatus. */
export interface ReadStatusOptions {
  /**
   * Read from the member's local state without a quorum round: answers while etcd
   * has no quorum, but may lag a moment behind.
   * @default false
   */
  serializable?: boolean;
}

/** Reads a group's state at one revision. */
export async function readFleetStatus(
  client: EtcdClient,
  settings: StatusSettings,
  options: ReadStatusOptions = {},
): Promise<FleetStatus> {
  const g = groupKeys(settings.group);
  const serializable = options.serializable ?? false;
  const res = await client.txn({
    compare: [],
    success: [
      { range: { key: g.hosts, prefix: true, serializable } },
      { range: { key: g.queue, prefix: true, serializable } },
      { range: { key: g.targets, prefix: true, serializable } },
    ],
  });
  const [hostsRange, queueRange, targetsRange] = res.results.map((r) =>
    r.kind === "range" ? r.kvs : []
  );
  const hosts = (hostsRange ?? []).flatMap((kv) => {
    const state = parseHostState(kv.value);
    return state ? [{ ...state, id: keyName(kv.key) }] : [];
  });
  const canaryIds = canaries(
    hosts.filter((h) => !h.paused).map((h) => h.id),
    settings.canaries,
  );
  const queue = queueOrder(
    (queueRange ?? []).flatMap((kv) => {
      const entry = parseQueueEntry(kv.value);
      return entry ? [{ ...entry, id: keyName(kv.key), createRevision: kv.createRevision }] : [];
    }),
  ).map(({ createRevision: _, ...e }, position) => ({
    ...e,
    position,
    holdsSlot: position < settings.maxConcurrent,
  }));
  const holders = new Set(queue.filter((q) => q.holdsSlot).map((q) => q.id));
  const targets = new Map<string, TargetStatus>();
  for (const kv of targetsRange ?? []) {
    const rest = kv.key.slice(g.targets.length);
    const name = rest.slice(0, rest.indexOf("/"));
    const target = parseTargetName(name);
    if (target === undefined) continue;
    const t = targets.get(name) ?? { ...target, soaked: [] };
    targets.set(name, t);
    const sub = rest.slice(name.length + 1);
    if (sub === "halt") {
      const halt = parseHalt(kv.value);
      if (halt) t.halt = halt;
    } else if (sub.startsWith("soaked/")) {
      t.soaked.push(keyName(kv.key));
    }
  }
  return {
    group: settings.group,
    revision: res.revision,
    maxConcurrent: settings.maxConcurrent,
    canaryCount: settings.canaries,
    soak: settings.soak,
    canaries: canaryIds,
    hosts: hosts
      .map((h) => ({ ...h, canary: canaryIds.includes(h.id), holdsSlot: holders.has(h.id) }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    queue,
    targets: [...targets.values()],
  };
}

/** Where a group's state was read, for `ysco fleet status`. */
export interface StatusSource {
  /** Whether the read was linearizable (etcd had a quorum and a leader). */
  quorum: boolean;
  /** The member that answered. */
  member: string;
  /** Why the linearizable read failed, without a quorum. */
  error?: string;
  /** What each member said about itself (and the leader it follows). */
  members: MemberStatus[];
}

/**
 * Reads a group's state linearizably when etcd has a quorum, and otherwise
 * serializably from any member that answers (it may lag behind), saying which.
 * Members that know no leader are asked first, so that an outage costs one round of
 * status requests rather than a linearizable read's time limit per member.
 * @throws EtcdUnavailableError when no member answers at all
 */
export async function readFleetStatusAnyway(
  client: EtcdClient,
  settings: StatusSettings,
): Promise<{ status: FleetStatus; source: StatusSource }> {
  const members = await client.memberStatus();
  let error = "no member knows a leader";
  if (members.some((m) => m.leader !== undefined)) {
    try {
      const status = await readFleetStatus(client, settings);
      return { status, source: { quorum: true, member: client.endpoint, members } };
    } catch (err) {
      if (!(err instanceof EtcdUnavailableError)) throw err;
      error = errorMessage(err);
    }
  }
  const status = await readFleetStatus(client, settings, { serializable: true });
  return { status, source: { quorum: false, member: client.endpoint, error, members } };
}

/** Lines about a read without a quorum (none with one). */
export function formatStatusSource(source: StatusSource): string {
  if (source.quorum) return "";
  const members = source.members.map((m) =>
    m.memberId === undefined
      ? `  ${m.endpoint}: no answer (${m.error ?? ""})`
      : `  ${m.endpoint} (member ${m.memberId}): ${
        m.leader ? `follows leader ${m.leader}` : "no leader"
      }${m.error ? ` (${m.error})` : ""}`
  );
  return `no quorum: read from member ${source.member}, may be stale (${source.error ?? ""})\n` +
    `etcd members:\n${members.join("\n")}\n\n`;
}

/** The status as text for a terminal. */
export function formatFleetStatus(status: FleetStatus): string {
  const lines: string[] = [];
  const held = status.queue.filter((q) => q.holdsSlot);
  lines.push(
    `group ${status.group}: ${status.hosts.length} host${status.hosts.length === 1 ? "" : "s"}, ` +
      `${held.length} of ${status.maxConcurrent} slot${
        status.maxConcurrent === 1 ? "" : "s"
      } taken, ` +
      `canaries ${status.canaries.length > 0 ? status.canaries.join(", ") : "none"} ` +
      `(soak ${formatDuration(status.soak)})`,
  );
  if (status.hosts.length > 0) {
    const rows = status.hosts.map((h) => [
      h.id,
      h.version || "-",
      h.goVersion || "-",
      h.healthy ? "yes" : "no",
      h.canary ? "canary" : h.paused ? "paused" : "",
      hostActivity(h),
    ]);
    lines.push("", ...table(["HOST", "VERSION", "GO", "HEALTHY", "ROLE", "STATE"], rows));
  }
  if (status.queue.length > 0) {
    lines.push("", "slots and queue:");
    for (const q of status.queue) {
      lines.push(
        `  ${q.holdsSlot ? "slot " : "queue"} ${q.position + 1}  ${q.id}  ${
          formatTarget(q)
        }  since ${q.since}`,
      );
    }
  }
  for (const t of status.targets) {
    if (t.halt) {
      lines.push(
        "",
        `HALTED ${formatTarget(t)}: ${
          t.halt.alert ? "alert during the canary soak" : "rolled back"
        } on ${t.halt.by} at ${t.halt.at}: ${t.halt.reason}`,
        `  resume with: ysco fleet resume ${t.version}`,
      );
    }
  }
  const soaked = status.targets.filter((t) => t.soaked.length > 0);
  if (soaked.length > 0) {
    lines.push("", "soaked on canaries:");
    for (const t of soaked) lines.push(`  ${formatTarget(t)}: ${t.soaked.join(", ")}`);
  }
  return lines.join("\n") + "\n";
}

function hostActivity(h: HostStatus): string {
  const parts: string[] = [];
  if (h.updating) parts.push(`updating to ${formatTarget(h.updating)} since ${h.updating.since}`);
  else if (h.waiting) parts.push(`waiting for ${formatTarget(h.waiting)} since ${h.waiting.since}`);
  if (h.lastError) parts.push(`error: ${h.lastError}`);
  return parts.join("; ");
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [header, ...rows].map((r) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd()
  );
}

/**
 * Removes halts: of every target whose version (or "version goVersion") equals
 * `version`, or all halts when it is absent. Returns the halts removed.
 */
export async function resumeFleet(
  client: EtcdClient,
  group: string,
  version?: string,
): Promise<Halt[]> {
  const g = groupKeys(group);
  const { kvs } = await client.range(g.targets, { prefix: true });
  const removed: Halt[] = [];
  for (const kv of kvs) {
    if (!kv.key.endsWith("/halt")) continue;
    const name = kv.key.slice(g.targets.length, -"/halt".length);
    const target = parseTargetName(name);
    if (target === undefined) continue;
    if (
      version !== undefined && version !== target.version && version !== formatTarget(target) &&
      version !== name
    ) continue;
    const halt = parseHalt(kv.value);
    // Delete only the halt that was read, not one written again since.
    const res = await client.txn({
      compare: [{ key: kv.key, target: "mod", op: "=", value: kv.modRevision }],
      success: [{ delete: { key: fleetKeys(group, "", target).halt } }],
    });
    if (res.succeeded && halt) removed.push(halt);
  }
  return removed;
}
