/**
 * A small DNS client for TXT records, because Deno.resolveDns rejects gopherwatch
 * names (labels with "_" inside). Queries go over UDP with an EDNS0 record and are
 * repeated over TCP when the answer is truncated. Every query has a random id and
 * a random source port; an answer whose source, id or question does not match is
 * dropped and the client keeps waiting. Resolvers are tried in order, each attempt
 * with its own timeout.
 *
 * @module
 */

import * as dnsPacket from "dns-packet";
import { hostPortProblem, parseHostPort } from "../host_port.ts";
import { errorMessage } from "../errors.ts";

// Imported dynamically: static imports of Node's modules would be hoisted to the top
// of the release bundle and loaded at every start, some 15 ms for these.
const { Buffer } = await import("node:buffer");
const { default: dgram } = await import("node:dgram");
const { lookup } = await import("node:dns/promises");
const { isIP } = await import("node:net");

/** How a DNS query failed. */
export type DnsErrorKind =
  | "nxdomain"
  | "servfail"
  | "refused"
  | "formerr"
  | "rcode"
  | "timeout"
  | "network"
  | "malformed";

/** A failed DNS query; the message names the query name and the resolver. */
export class DnsError extends Error {
  /** What went wrong, for callers that branch (NXDOMAIN is "not found"). */
  readonly kind: DnsErrorKind;
  /** The queried name. */
  readonly query: string;
  /** The resolver, "host:port". */
  readonly resolver: string;

  /**
   * @param kind what went wrong
   * @param query the queried name
   * @param resolver the resolver that answered or failed
   * @param detail the state, e.g. "no such name (NXDOMAIN)"
   */
  constructor(
    kind: DnsErrorKind,
    query: string,
    resolver: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot look up TXT "${query}" at ${resolver}: ${detail}`, options);
    this.name = "DnsError";
    this.kind = kind;
    this.query = query;
    this.resolver = resolver;
  }
}

/** Options for queryTxt. */
export interface DnsQueryOptions {
  /** Resolvers as "host:port" (IPv6 as "[addr]:port"), asked in order. */
  resolvers: readonly string[];
  /** Time to wait for one answer. @default 2000 */
  timeoutMs?: number;
  /** Rounds over all resolvers. @default 2 */
  attempts?: number;
  /** UDP payload size advertised in the EDNS0 record. @default 1232 */
  udpSize?: number;
  /** Aborts the whole lookup. */
  signal?: AbortSignal;
}

/** The TXT records of a name; no records means NODATA (the name exists, without TXT). */
export interface TxtAnswer {
  /** The queried name, without the final dot. */
  name: string;
  /** The resolver that answered. */
  resolver: string;
  /** Per record, its strings (UTF-8 decoded). */
  records: string[][];
  /** The resolver's AD bit: it validated the answer with DNSSEC. */
  authenticated: boolean;
  /** How the answer came: "udp", or "tcp" after a truncated UDP answer. */
  transport: "udp" | "tcp";
  /** Bytes of DNS messages sent, over all exchanges of this lookup (TCP length prefixes included). */
  bytesSent: number;
  /** Bytes of DNS messages received that were accepted or dropped. */
  bytesReceived: number;
}

const RCODES: Record<number, [DnsErrorKind, string]> = {
  1: ["formerr", "format error (FORMERR)"],
  2: ["servfail", "server failure (SERVFAIL)"],
  3: ["nxdomain", "no such name (NXDOMAIN)"],
  4: ["rcode", "not implemented (NOTIMP)"],
  5: ["refused", "query refused (REFUSED)"],
};

/** Largest TCP message. */
const MAX_TCP = 65535;

/**
 * Looks up the TXT records of name.
 * @throws DnsError naming the name and the resolver; kind "nxdomain" when the name
 * does not exist (not retried at other resolvers: that is an answer)
 */
export async function queryTxt(name: string, options: DnsQueryOptions): Promise<TxtAnswer> {
  const qname = name.replace(/\.$/, "");
  const attempts = options.attempts ?? 2;
  const counter = { sent: 0, received: 0 };
  let last: unknown = new DnsError("network", qname, "-", "no resolvers configured");
  for (let round = 0; round < attempts; round++) {
    for (const resolver of options.resolvers) {
      options.signal?.throwIfAborted();
      try {
        return await queryOne(qname, resolver, options, counter);
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (err instanceof DnsError && err.kind === "nxdomain") throw err;
        last = err;
      }
    }
  }
  throw last;
}

interface Server {
  /** As configured, for messages. */
  label: string;
  /** Canonical IP address. */
  address: string;
  port: number;
  family: 4 | 6;
}

interface Counter {
  sent: number;
  received: number;
}

async function queryOne(
  qname: string,
  resolver: string,
  options: DnsQueryOptions,
  counter: Counter,
): Promise<TxtAnswer> {
  const server = await resolveServer(qname, resolver);
  const timeoutMs = options.timeoutMs ?? 2000;
  let udpSize: number | undefined = options.udpSize ?? 1232;
  let reply = await exchangeUdp(qname, server, udpSize, timeoutMs, options.signal, counter);
  if (rcodeOf(reply.raw) === 1 && udpSize !== undefined) {
    // An old server that does not know EDNS0: ask again without it.
    udpSize = undefined;
    reply = await exchangeUdp(qname, server, udpSize, timeoutMs, options.signal, counter);
  }
  let transport: TxtAnswer["transport"] = "udp";
  if (reply.packet.flag_tc) {
    transport = "tcp";
    reply = await exchangeTcp(qname, server, udpSize, timeoutMs, options.signal, counter);
  }
  const rcode = rcodeOf(reply.raw);
  if (rcode !== 0) {
    const [kind, detail] = RCODES[rcode] ?? ["rcode" as const, `response code ${rcode}`];
    throw new DnsError(kind, qname, server.label, detail);
  }
  return {
    name: qname,
    resolver: server.label,
    records: txtRecords(qname, reply.packet),
    authenticated: reply.packet.flag_ad,
    transport,
    bytesSent: counter.sent,
    bytesReceived: counter.received,
  };
}

async function resolveServer(qname: string, resolver: string): Promise<Server> {
  const problem = hostPortProblem(resolver);
  if (problem !== undefined) {
    throw new DnsError("network", qname, resolver, `resolver: ${problem}`);
  }
  const { host, port } = parseHostPort(resolver);
  let address = host;
  if (isIP(host) === 0) {
    try {
      address = (await lookup(host)).address;
    } catch (err) {
      throw new DnsError(
        "network",
        qname,
        resolver,
        `cannot resolve resolver host: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  const family = isIP(address) === 6 ? 6 : 4;
  return { label: resolver, address: canonicalIp(address, family), port, family };
}

function canonicalIp(address: string, family: 4 | 6): string {
  return family === 6
    ? new URL(`http://[${address.replace(/%.*$/, "")}]/`).hostname.slice(1, -1)
    : address;
}

function buildQuery(qname: string, udpSize: number | undefined): { id: number; bytes: Uint8Array } {
  const id = crypto.getRandomValues(new Uint16Array(1))[0] ?? 0;
  const packet: dnsPacket.Packet = {
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.AUTHENTIC_DATA,
    questions: [{ type: "TXT", class: "IN", name: qname }],
  };
  if (udpSize !== undefined) {
    packet.additionals = [{
      type: "OPT",
      name: ".",
      udpPayloadSize: udpSize,
      extendedRcode: 0,
      ednsVersion: 0,
      flags: 0,
      flag_do: false,
      options: [],
    }];
  }
  return { id, bytes: new Uint8Array(dnsPacket.encode(packet)) };
}

interface Reply {
  raw: Uint8Array;
  packet: dnsPacket.DecodedPacket;
}

/** Decodes msg when it answers our query (id, QR bit, the one question); else undefined. */
function matchReply(msg: Uint8Array, id: number, qname: string): Reply | undefined {
  if (msg.length < 12 || ((msg[0] ?? 0) << 8 | (msg[1] ?? 0)) !== id) return undefined;
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(Buffer.from(msg));
  } catch {
    return undefined;
  }
  const q = packet.questions ?? [];
  const q0 = q[0];
  if (!packet.flag_qr || q.length !== 1 || q0 === undefined) return undefined;
  if (q0.type !== "TXT" || (q0.class ?? "IN") !== "IN") return undefined;
  if (q0.name.toLowerCase() !== qname.toLowerCase()) return undefined;
  return { raw: msg, packet };
}

function exchangeUdp(
  qname: string,
  server: Server,
  udpSize: number | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  counter: Counter,
): Promise<Reply> {
  const { id, bytes } = buildQuery(qname, udpSize);
  return new Promise<Reply>((resolve, reject) => {
    const socket = dgram.createSocket(server.family === 6 ? "udp6" : "udp4");
    const finish = (err: unknown, reply?: Reply) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.close();
      if (reply !== undefined) resolve(reply);
      else reject(err);
    };
    const onAbort = () => finish(signal?.reason);
    const timer = setTimeout(
      () =>
        finish(new DnsError("timeout", qname, server.label, `no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal?.addEventListener("abort", onAbort);
    socket.on("error", (err) => {
      finish(new DnsError("network", qname, server.label, errorMessage(err), { cause: err }));
    });
    socket.on("message", (msg: Uint8Array, rinfo: { address: string; port: number }) => {
      counter.received += msg.length;
      // Answers from elsewhere, with another id or question, are dropped: a spoofer
      // has to guess the source port and the id and race the real answer.
      if (
        rinfo.port !== server.port || canonicalIp(rinfo.address, server.family) !== server.address
      ) {
        return;
      }
      const reply = matchReply(new Uint8Array(msg), id, qname);
      if (reply !== undefined) finish(undefined, reply);
    });
    counter.sent += bytes.length;
    socket.send(bytes, server.port, server.address, (err) => {
      if (err) {
        finish(new DnsError("network", qname, server.label, errorMessage(err), { cause: err }));
      }
    });
  });
}

async function exchangeTcp(
  qname: string,
  server: Server,
  udpSize: number | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  counter: Counter,
): Promise<Reply> {
  const { id, bytes } = buildQuery(qname, udpSize);
  let conn: Deno.TcpConn | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn?.close();
  }, timeoutMs);
  const onAbort = () => conn?.close();
  signal?.addEventListener("abort", onAbort);
  try {
    conn = await Deno.connect({ hostname: server.address, port: server.port, transport: "tcp" });
    if (timedOut || signal?.aborted) conn.close();
    const framed = new Uint8Array(2 + bytes.length);
    framed.set([bytes.length >> 8, bytes.length & 0xff]);
    framed.set(bytes, 2);
    counter.sent += framed.length;
    let off = 0;
    while (off < framed.length) off += await conn.write(framed.subarray(off));
    const head = await readFull(conn, 2);
    const size = (head[0] ?? 0) << 8 | (head[1] ?? 0);
    if (size > MAX_TCP || size < 12) {
      throw new DnsError("malformed", qname, server.label, `TCP answer of ${size} bytes`);
    }
    const msg = await readFull(conn, size);
    counter.received += 2 + size;
    const reply = matchReply(msg, id, qname);
    if (reply === undefined) {
      throw new DnsError("malformed", qname, server.label, "TCP answer does not match the query");
    }
    return reply;
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (timedOut) {
      throw new DnsError("timeout", qname, server.label, `no TCP answer within ${timeoutMs} ms`);
    }
    if (err instanceof DnsError) throw err;
    throw new DnsError("network", qname, server.label, `TCP: ${errorMessage(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    try {
      conn?.close();
    } catch {
      // already closed by the timeout or the abort
    }
  }
}

async function readFull(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const got = await conn.read(buf.subarray(off));
    if (got === null) throw new Error(`connection closed after ${off} of ${n} bytes`);
    off += got;
  }
  return buf;
}

function rcodeOf(raw: Uint8Array): number {
  return (raw[3] ?? 0) & 0x0f;
}

/** The TXT records for qname in the answer section, following CNAMEs. */
function txtRecords(qname: string, packet: dnsPacket.DecodedPacket): string[][] {
  const answers = packet.answers ?? [];
  const names = new Set([qname.toLowerCase()]);
  for (const a of answers) {
    if (a.type === "CNAME" && names.has(a.name.toLowerCase())) names.add(a.data.toLowerCase());
  }
  const decoder = new TextDecoder();
  const out: string[][] = [];
  for (const a of answers) {
    if (a.type !== "TXT" || !names.has(a.name.toLowerCase())) continue;
    const data = Array.isArray(a.data) ? a.data : [a.data];
    out.push(data.map((s) => typeof s === "string" ? s : decoder.decode(s)));
  }
  return out;
}
