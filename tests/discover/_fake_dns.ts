/**
 * A protocol-level fake DNS server on 127.0.0.1 UDP, for what dnsmasq will not do
 * on demand: never answer, answer SERVFAIL, or send forged answers (wrong id,
 * wrong question, wrong source port) before the real one.
 *
 * @module
 */

import * as dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import dgram from "node:dgram";

/** What the fake received. */
export interface FakeQuery {
  packet: dnsPacket.DecodedPacket;
  size: number;
  port: number;
}

/** How the fake answers one query: send(bytes) from its socket, sendOther(bytes) from another port. */
export type FakeHandler = (
  query: FakeQuery,
  reply: { send(msg: Uint8Array): void; sendOther(msg: Uint8Array): void },
) => void;

/** A running fake. */
export interface FakeDns extends AsyncDisposable {
  address: string;
  queries: FakeQuery[];
}

/** Starts a fake DNS server; the default handler drops everything (a resolver that never answers). */
export async function startFakeDns(handler: FakeHandler = () => {}): Promise<FakeDns> {
  const socket = dgram.createSocket("udp4");
  const other = dgram.createSocket("udp4");
  const queries: FakeQuery[] = [];
  socket.on("message", (msg: Uint8Array, rinfo: { port: number; address: string }) => {
    const query = {
      packet: dnsPacket.decode(Buffer.from(msg)),
      size: msg.length,
      port: rinfo.port,
    };
    queries.push(query);
    handler(query, {
      send: (m) => socket.send(m, rinfo.port, rinfo.address),
      sendOther: (m) => other.send(m, rinfo.port, rinfo.address),
    });
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => other.bind(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    queries,
    async [Symbol.asyncDispose]() {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await new Promise<void>((resolve) => other.close(() => resolve()));
    },
  };
}

/** Encodes an answer to query with TXT strings, the given response code, and overrides. */
export function txtAnswer(
  query: dnsPacket.DecodedPacket,
  strings: string[],
  options: { rcode?: number; id?: number; name?: string } = {},
): Uint8Array {
  const name = options.name ?? query.questions?.[0]?.name ?? "";
  return new Uint8Array(dnsPacket.encode({
    type: "response",
    id: options.id ?? query.id ?? 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (options.rcode ?? 0),
    questions: [{ type: "TXT", class: "IN", name }],
    answers: options.rcode ? [] : [{ type: "TXT", class: "IN", name, ttl: 60, data: strings }],
  }));
}
