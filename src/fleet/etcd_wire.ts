/**
 * The wire format of etcd's HTTP/JSON gateway: the request bodies of ranges, puts,
 * deletes, transactions and watches, and the answers decoded into plain values. Keys
 * and values are base64 of their UTF-8 bytes on the wire, revisions and counts are
 * decimal strings (64-bit), lease IDs stay strings.
 *
 * Pure functions, no I/O; the client is etcd.ts.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "../verify/base64.ts";

/** A key-value pair as etcd returns it. */
export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  /** Lease ID, "0" for none. */
  lease: string;
}

/** Options of a range read. */
export interface RangeOptions {
  /** Read every key with this prefix (key is the prefix). */
  prefix?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  limit?: number;
  /** Serve from the member's local state without a quorum round. */
  serializable?: boolean;
}

/** The result of a range read. */
export interface RangeResult {
  kvs: KeyValue[];
  count: number;
  /** The store's revision when the read was served. */
  revision: number;
}

/** One comparison of a transaction. */
export type Compare =
  | {
    key: string;
    target: "create" | "mod" | "version";
    op: "=" | "!=" | "<" | ">";
    value: number;
  }
  | { key: string; target: "value"; op: "=" | "!=" | "<" | ">"; value: string }
  | { key: string; target: "lease"; op: "=" | "!="; value: string };

/** One operation of a transaction. */
export type Op =
  | { put: { key: string; value: string; lease?: string } }
  | { range: { key: string } & RangeOptions }
  | { delete: { key: string; prefix?: boolean } };

/** A transaction: if every compare holds, success runs, otherwise failure. */
export interface Txn {
  compare: Compare[];
  success: Op[];
  failure?: Op[];
}

/** The result of one operation in a transaction: ranges carry their kvs. */
export type OpResult =
  | { kind: "put" }
  | { kind: "delete"; deleted: number }
  | { kind: "range"; kvs: KeyValue[]; count: number };

/** The result of a transaction. */
export interface TxnResult {
  succeeded: boolean;
  revision: number;
  results: OpResult[];
}

/** A watch request: one key or a prefix, from a revision, optionally without puts or deletes. */
export interface WatchSpec {
  key: string;
  prefix?: boolean;
  /** First revision to report. @default the next one */
  startRevision?: number;
  /** Drop these event types on the server. */
  filters?: Array<"noput" | "nodelete">;
}

/** One change of a key. */
export interface WatchEvent {
  type: "put" | "delete";
  kv: KeyValue;
}

/** A batch of events for one watch (index into the specs). */
export interface WatchBatch {
  watch: number;
  revision: number;
  events: WatchEvent[];
  /** Set when the requested start revision was compacted away. */
  compactRevision?: number;
}

/**
 * The end of the range of every key that starts with prefix (etcd's "prefix + 1").
 * @throws RangeError for a prefix that does not end in ASCII (fleet keys are ASCII)
 */
export function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  if (!(last >= 0 && last < 0x7f)) {
    throw new RangeError(`Cannot watch or read prefix "${prefix}": it must end in ASCII`);
  }
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** base64 of the UTF-8 bytes of text. */
export function b64(text: string): string {
  return encodeBase64(new TextEncoder().encode(text));
}

/** The text of a base64 value; "" for anything else. */
export function unb64(text: unknown): string {
  if (typeof text !== "string" || text === "") return "";
  return new TextDecoder().decode(decodeBase64(text) ?? new Uint8Array());
}

/** The body of a range request. */
export function rangeRequest(key: string, options: RangeOptions): Record<string, unknown> {
  return {
    key: b64(key),
    ...(options.prefix ? { range_end: b64(prefixEnd(key)) } : {}),
    ...(options.keysOnly ? { keys_only: true } : {}),
    ...(options.countOnly ? { count_only: true } : {}),
    ...(options.limit ? { limit: String(options.limit) } : {}),
    ...(options.serializable ? { serializable: true } : {}),
  };
}

/** The body of a put request. */
export function putRequest(
  p: { key: string; value: string; lease?: string },
): Record<string, unknown> {
  return { key: b64(p.key), value: b64(p.value), ...(p.lease ? { lease: p.lease } : {}) };
}

/** The body of a delete-range request. */
export function deleteRequest(key: string, prefix?: boolean): Record<string, unknown> {
  return { key: b64(key), ...(prefix ? { range_end: b64(prefixEnd(key)) } : {}) };
}

const COMPARE_OPS = { "=": "EQUAL", "!=": "NOT_EQUAL", "<": "LESS", ">": "GREATER" } as const;

/** One compare of a transaction, on the wire. */
export function compareRequest(c: Compare): Record<string, unknown> {
  const base = { key: b64(c.key), result: COMPARE_OPS[c.op] };
  switch (c.target) {
    case "create":
      return { ...base, target: "CREATE", create_revision: String(c.value) };
    case "mod":
      return { ...base, target: "MOD", mod_revision: String(c.value) };
    case "version":
      return { ...base, target: "VERSION", version: String(c.value) };
    case "value":
      return { ...base, target: "VALUE", value: b64(c.value) };
    case "lease":
      return { ...base, target: "LEASE", lease: c.value };
  }
}

/** One operation of a transaction, on the wire. */
export function opRequest(op: Op): Record<string, unknown> {
  if ("put" in op) return { request_put: putRequest(op.put) };
  if ("range" in op) return { request_range: rangeRequest(op.range.key, op.range) };
  return { request_delete_range: deleteRequest(op.delete.key, op.delete.prefix) };
}

/** One response of a transaction. */
export function opResult(r: unknown): OpResult {
  const o = isObject(r) ? r : {};
  if (isObject(o.response_range)) return { kind: "range", ...rangeResult(o.response_range) };
  if (isObject(o.response_delete_range)) {
    return { kind: "delete", deleted: Number(o.response_delete_range.deleted ?? 0) };
  }
  return { kind: "put" };
}

/** The kvs and count of a range response. */
export function rangeResult(res: Record<string, unknown>): { kvs: KeyValue[]; count: number } {
  const kvs = Array.isArray(res.kvs) ? res.kvs.filter(isObject).map(keyValue) : [];
  return { kvs, count: Number(res.count ?? 0) };
}

/** A key-value pair from the wire. */
export function keyValue(kv: Record<string, unknown>): KeyValue {
  return {
    key: unb64(kv.key),
    value: unb64(kv.value),
    createRevision: Number(kv.create_revision ?? 0),
    modRevision: Number(kv.mod_revision ?? 0),
    version: Number(kv.version ?? 0),
    lease: String(kv.lease ?? "0"),
  };
}

/** The create request of a watch. */
export function watchRequest(s: WatchSpec): Record<string, unknown> {
  return {
    key: b64(s.key),
    ...(s.prefix ? { range_end: b64(prefixEnd(s.key)) } : {}),
    ...(s.startRevision ? { start_revision: String(s.startRevision) } : {}),
    ...(s.filters ? { filters: s.filters.map((f) => (f === "noput" ? "NOPUT" : "NODELETE")) } : {}),
  };
}

/** The revision in a response header; 0 when absent. */
export function revisionOf(res: Record<string, unknown>): number {
  const header = isObject(res.header) ? res.header : {};
  return Number(header.revision ?? 0);
}

/** A JSON object, or null for anything else. */
export function parseJsonOrNull(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

/** Whether v is a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
