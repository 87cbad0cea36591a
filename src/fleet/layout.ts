/**
 * Where a fleet keeps its state in etcd, and the JSON values stored there. Every key
 * of a group lives under `/ysco/fleet/<group>/`:
 *
 * - `hosts/<id>`: each host's state (HostState), attached to the host's lease, so a
 *   dead host's entry disappears when the lease expires.
 * - `queue/<id>`: hosts that want to install (QueueEntry), attached to the lease. The
 *   first `max_concurrent` keys by create revision hold the slots; the rest wait in
 *   order. Deleting the key releases the slot or leaves the queue.
 * - `targets/<target>/halt`: a rollback (or an alert during a canary's soak) stopped
 *   this target (Halt); no lease, so it stays until an operator resumes.
 * - `targets/<target>/soaked/<id>`: a canary ran this target healthily for the soak
 *   time (SoakMark); no lease.
 *
 * A target is a module version built with a Go version, written
 * "<version>@<goVersion>" with both parts URI-encoded, so keys stay ASCII.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import type { Release } from "../state/state.ts";

/** The root under which every fleet group lives. */
export const FLEET_ROOT = "/ysco/fleet/";

/** A group's key prefixes. */
export interface GroupKeys {
  /** Everything of the group. */
  prefix: string;
  hosts: string;
  queue: string;
  targets: string;
}

/** Key prefixes of a group. */
export function groupKeys(group: string): GroupKeys {
  const prefix = `${FLEET_ROOT}${encodeURIComponent(group)}/`;
  return {
    prefix,
    hosts: `${prefix}hosts/`,
    queue: `${prefix}queue/`,
    targets: `${prefix}targets/`,
  };
}

/** The key name of a target: "v1.2.3@go1.23.4". */
export function targetName(target: Release): string {
  return `${encodeURIComponent(target.version)}@${encodeURIComponent(target.goVersion)}`;
}

/** The target of a key name made by targetName; undefined for anything else. */
export function parseTargetName(name: string): Release | undefined {
  const [version, goVersion, extra] = name.split("@");
  if (version === undefined || goVersion === undefined || extra !== undefined) return undefined;
  try {
    return { version: decodeURIComponent(version), goVersion: decodeURIComponent(goVersion) };
  } catch {
    return undefined;
  }
}

/** "v1.2.3 go1.23.4", for messages. */
export function formatTarget(target: Release): string {
  return `${target.version} ${target.goVersion}`;
}

/** The keys of one host and one target in a group. */
export interface FleetKeys {
  host: string;
  queue: string;
  /** Prefix of the target's halt and soak marks. */
  target: string;
  halt: string;
  soaked: string;
  soakedMine: string;
}

/** The keys a host uses for a target. */
export function fleetKeys(group: string, id: string, target?: Release): FleetKeys {
  const g = groupKeys(group);
  const t = target ? `${g.targets}${targetName(target)}/` : `${g.targets}-/`;
  return {
    host: g.hosts + encodeURIComponent(id),
    queue: g.queue + encodeURIComponent(id),
    target: t,
    halt: `${t}halt`,
    soaked: `${t}soaked/`,
    soakedMine: `${t}soaked/${encodeURIComponent(id)}`,
  };
}

/**
 * The hosts that may be canaries, from the values under hosts/: every registered
 * host whose automatic updates are not paused.
 */
export function canaryCandidates(hosts: ReadonlyArray<{ key: string; value: string }>): string[] {
  return hosts.flatMap((kv) => parseHostState(kv.value)?.paused ? [] : [keyName(kv.key)]);
}

/** The last path element of a key, decoded (a host id or target name). */
export function keyName(key: string): string {
  const name = key.slice(key.lastIndexOf("/") + 1);
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** What a host publishes about itself under hosts/<id>. */
export interface HostState {
  id: string;
  /** Version of the service module running now. */
  version: string;
  /** Go version the running binary was built with. */
  goVersion: string;
  /** Whether the running service passes its health check. */
  healthy: boolean;
  /** Set while the host holds a slot and installs: the target and when it took the slot. */
  updating?: Release & { since: string };
  /** Set while the host waits to install: the target and since when. */
  waiting?: Release & { since: string };
  /** The last update or coordination error, if any. */
  lastError?: string;
  /** Set when automatic updates are paused on the host: it is no canary then. */
  paused?: boolean;
  /** When the host published this (ISO 8601, the host's clock). */
  at: string;
}

/** A host in the queue for a slot. */
export interface QueueEntry {
  id: string;
  version: string;
  goVersion: string;
  /** When the host started to wait (ISO 8601). */
  since: string;
}

/** A rollout stopped by a rollback. */
export interface Halt {
  version: string;
  goVersion: string;
  /** The host that rolled back. */
  by: string;
  reason: string;
  /** ISO 8601. */
  at: string;
  /** The alert that halted it during a canary's soak (its name and labels); absent for a rollback. */
  alert?: string;
}

/** A host ran a target healthily for the soak time. */
export interface SoakMark {
  id: string;
  at: string;
}

/** Parses a stored HostState; undefined when the value is not one. */
export function parseHostState(text: string): HostState | undefined {
  const o = parseObject(text);
  if (o === undefined || typeof o.id !== "string") return undefined;
  const state: HostState = {
    id: o.id,
    version: str(o.version),
    goVersion: str(o.goVersion),
    healthy: o.healthy === true,
    at: str(o.at),
  };
  const u = o.updating;
  if (typeof u === "object" && u !== null && !Array.isArray(u)) {
    const r = u as Record<string, unknown>;
    state.updating = { version: str(r.version), goVersion: str(r.goVersion), since: str(r.since) };
  }
  const w = o.waiting;
  if (typeof w === "object" && w !== null && !Array.isArray(w)) {
    const r = w as Record<string, unknown>;
    state.waiting = { version: str(r.version), goVersion: str(r.goVersion), since: str(r.since) };
  }
  if (typeof o.lastError === "string" && o.lastError !== "") state.lastError = o.lastError;
  if (o.paused === true) state.paused = true;
  return state;
}

/** Parses a stored QueueEntry; undefined when the value is not one. */
export function parseQueueEntry(text: string): QueueEntry | undefined {
  const o = parseObject(text);
  if (o === undefined || typeof o.id !== "string") return undefined;
  return { id: o.id, version: str(o.version), goVersion: str(o.goVersion), since: str(o.since) };
}

/** Parses a stored Halt; undefined when the value is not one. */
export function parseHalt(text: string): Halt | undefined {
  const o = parseObject(text);
  if (o === undefined) return undefined;
  return {
    version: str(o.version),
    goVersion: str(o.goVersion),
    by: str(o.by),
    reason: str(o.reason),
    at: str(o.at),
    ...(typeof o.alert === "string" && o.alert !== "" ? { alert: o.alert } : {}),
  };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? v as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
