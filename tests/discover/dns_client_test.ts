import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { splitTxt, startDnsmasq } from "../../world/dnsmasq.ts";
import { tempDir } from "../../world/util.ts";
import { startFakeDns, txtAnswer } from "./_fake_dns.ts";
import { DnsError, queryTxt } from "../../src/discover/dns_client.ts";
import { parseResolvConf, systemResolvers } from "../../src/discover/resolv_conf.ts";

const MOX = "mox.mjl_2d._.github.com.v0.l.gopherwatch.org";
const LONG = Array.from({ length: 30 }, (_, i) => `v=v${30 - i}.0.${i} t=66fa7e15`).join("; ");

function isDnsError(kind: string, pattern: RegExp) {
  return (err: unknown) =>
    err instanceof DnsError && err.kind === kind && pattern.test(err.message);
}

Deno.test("queryTxt() reads records from dnsmasq: strings per record, several records", async () => {
  await using dns = await startDnsmasq({
    txt: [
      [MOX, ["v=v0.0.11 t=66fa7e15"]],
      ["long.l.gopherwatch.org", splitTxt(LONG)],
      ["two.l.gopherwatch.org", ["v=v2.0.0 t=1;"]],
      ["two.l.gopherwatch.org", ["v=v1.0.0 t=2"]],
    ],
  });
  const opts = { resolvers: [dns.address] };
  const one = await queryTxt(MOX + ".", opts);
  assertEquals(one.records, [["v=v0.0.11 t=66fa7e15"]]);
  assertEquals([one.name, one.resolver, one.transport], [MOX, dns.address, "udp"]);
  assert(one.bytesSent > 0 && one.bytesReceived > one.bytesSent);

  // A value longer than 255 bytes comes as several strings of one record.
  const long = await queryTxt("long.l.gopherwatch.org", opts);
  assertEquals(long.records.length, 1);
  assert((long.records[0] ?? []).length > 1);
  assertEquals((long.records[0] ?? []).join(""), LONG);

  const two = await queryTxt("two.l.gopherwatch.org", opts);
  assertEquals(two.records.map((r) => r.join("")).sort(), ["v=v1.0.0 t=2", "v=v2.0.0 t=1;"]);
});

Deno.test("queryTxt() tells NXDOMAIN, NODATA and REFUSED apart", async () => {
  await using dns = await startDnsmasq({ a: ["nodata.l.gopherwatch.org"] });
  const opts = { resolvers: [dns.address] };
  await assertRejects(
    () => queryTxt("unknown._.example.com.v0.l.gopherwatch.org", opts),
    isDnsError(
      "nxdomain",
      new RegExp(
        `^Cannot look up TXT "unknown._.example.com.v0.l.gopherwatch.org" at ${dns.address}: no such name \\(NXDOMAIN\\)$`,
      ),
    ),
  );
  const nodata = await queryTxt("nodata.l.gopherwatch.org", opts);
  assertEquals(nodata.records, []);
  // Outside its zones dnsmasq has no upstream and refuses.
  await assertRejects(
    () => queryTxt("example.com", opts),
    isDnsError("refused", /"example.com" at 127\.0\.0\.1:\d+: query refused \(REFUSED\)/),
  );
});

Deno.test("queryTxt() repeats a truncated UDP answer over TCP", async () => {
  // 3 x 250 bytes of TXT data do not fit in the 512 bytes advertised.
  const strings = ["a", "b", "c"].map((c) => `v=v1.0.0 t=1; x=${c.repeat(236)}`);
  await using dns = await startDnsmasq({ txt: [["big.l.gopherwatch.org", strings]] });
  const udp = await queryTxt("big.l.gopherwatch.org", { resolvers: [dns.address], udpSize: 512 });
  assertEquals(udp.transport, "tcp");
  assertEquals(udp.records, [strings]);
  // With room for it, the same answer comes over UDP.
  const big = await queryTxt("big.l.gopherwatch.org", { resolvers: [dns.address], udpSize: 1232 });
  assertEquals(big.transport, "udp");
  assertEquals(big.records, [strings]);
});

Deno.test("queryTxt() asks the next resolver when one never answers", async () => {
  await using silent = await startFakeDns();
  await using dns = await startDnsmasq({ txt: [[MOX, ["v=v0.0.11 t=66fa7e15"]]] });
  const answer = await queryTxt(MOX, { resolvers: [silent.address, dns.address], timeoutMs: 200 });
  assertEquals(answer.resolver, dns.address);
  assertEquals(answer.records, [["v=v0.0.11 t=66fa7e15"]]);
  assertEquals(silent.queries.length, 1);

  // Only silent resolvers: a timeout naming the name and the resolver, after every attempt.
  await assertRejects(
    () => queryTxt(MOX, { resolvers: [silent.address], timeoutMs: 100, attempts: 3 }),
    isDnsError(
      "timeout",
      new RegExp(`^Cannot look up TXT "${MOX}" at ${silent.address}: no answer within 100 ms$`),
    ),
  );
  assertEquals(silent.queries.length, 4);
});

Deno.test("queryTxt() drops answers whose source, id or question do not match", async () => {
  await using fake = await startFakeDns((q, reply) => {
    reply.send(txtAnswer(q.packet, ["v=v6.6.6 t=1"], { id: ((q.packet.id ?? 0) + 1) & 0xffff }));
    reply.send(txtAnswer(q.packet, ["v=v6.6.7 t=1"], { name: "other.l.gopherwatch.org" }));
    reply.sendOther(txtAnswer(q.packet, ["v=v6.6.8 t=1"]));
    reply.send(new Uint8Array([1, 2, 3]));
    reply.send(txtAnswer(q.packet, ["v=v1.0.0 t=1"]));
  });
  const answer = await queryTxt(MOX, { resolvers: [fake.address], timeoutMs: 5000 });
  assertEquals(answer.records, [["v=v1.0.0 t=1"]]);
  // The dropped answers were received, and counted.
  assert(answer.bytesReceived > 4 * 50);
});

Deno.test("queryTxt() sends a random id from a random port, with EDNS0 and one question", async () => {
  await using fake = await startFakeDns((q, reply) => reply.send(txtAnswer(q.packet, ["x=1"])));
  for (let i = 0; i < 6; i++) await queryTxt(MOX, { resolvers: [fake.address], udpSize: 1400 });
  assertEquals(fake.queries.length, 6);
  assert(new Set(fake.queries.map((q) => q.packet.id)).size > 1, "ids vary");
  assert(new Set(fake.queries.map((q) => q.port)).size > 1, "source ports vary");
  for (const q of fake.queries) {
    assertEquals(q.packet.questions, [{ name: MOX, type: "TXT", class: "IN" }]);
    const opt = q.packet.additionals?.find((a) => a.type === "OPT");
    assertEquals(opt?.type === "OPT" ? opt.udpPayloadSize : undefined, 1400);
    assert(q.packet.flag_rd);
  }
});

Deno.test("queryTxt() moves on after SERVFAIL, but takes NXDOMAIN as the answer", async () => {
  await using servfail = await startFakeDns((q, reply) =>
    reply.send(txtAnswer(q.packet, [], { rcode: 2 }))
  );
  await using dns = await startDnsmasq({ txt: [[MOX, ["v=v0.0.11 t=66fa7e15"]]] });
  const answer = await queryTxt(MOX, { resolvers: [servfail.address, dns.address] });
  assertEquals(answer.resolver, dns.address);
  await assertRejects(
    () => queryTxt(MOX, { resolvers: [servfail.address], attempts: 1 }),
    isDnsError("servfail", new RegExp(`at ${servfail.address}: server failure \\(SERVFAIL\\)$`)),
  );

  const before = servfail.queries.length;
  await assertRejects(
    () => queryTxt("nope.l.gopherwatch.org", { resolvers: [dns.address, servfail.address] }),
    isDnsError("nxdomain", /NXDOMAIN/),
  );
  assertEquals(servfail.queries.length, before, "no other resolver asked after NXDOMAIN");
});

Deno.test("queryTxt() stops when its signal aborts", async () => {
  await using silent = await startFakeDns();
  const controller = new AbortController();
  const pending = queryTxt(MOX, {
    resolvers: [silent.address],
    signal: controller.signal,
    timeoutMs: 60_000,
  });
  const deadline = Date.now() + 5000;
  while (silent.queries.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  controller.abort(new Error("stop now"));
  await assertRejects(() => pending, /stop now/);
});

Deno.test("parseResolvConf() lists nameservers as host:port", () => {
  const rows: Array<[string, string[]]> = [
    // [resolv.conf, resolvers]
    ["nameserver 10.0.0.1\nnameserver 10.0.0.2\n", ["10.0.0.1:53", "10.0.0.2:53"]],
    ["# comment\nsearch example.com\nnameserver ::1\noptions edns0\n", ["[::1]:53"]],
    ["nameserver 192.0.2.1 # trailing comment\n", ["192.0.2.1:53"]],
    ["", ["127.0.0.1:53"]], // none: the local resolver, as libc does
  ];
  for (const [text, want] of rows) assertEquals(parseResolvConf(text), want, text);
});

Deno.test("systemResolvers() prefers monitor.resolver, else reads resolv.conf", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/resolv.conf`;
  await Deno.writeTextFile(file, "nameserver 192.0.2.7\n");
  assertEquals(await systemResolvers("127.0.0.1:5353", file), ["127.0.0.1:5353"]);
  assertEquals(await systemResolvers("", file), ["192.0.2.7:53"]);
  assertEquals(await systemResolvers("", `${dir.path}/missing`), ["127.0.0.1:53"]);
  assertMatch((await systemResolvers(""))[0] ?? "", /:53$/);
});
