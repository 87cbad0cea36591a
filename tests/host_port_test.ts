import { assertEquals, assertThrows } from "./_assert.ts";
import { formatHostPort, hostPortProblem, parseHostPort } from "../src/host_port.ts";

Deno.test("parseHostPort() splits names, IPv4 and bracketed IPv6 addresses", () => {
  const rows: Array<[string, string, number]> = [
    ["127.0.0.1:1234", "127.0.0.1", 1234],
    ["localhost:53", "localhost", 53],
    ["[::1]:8080", "::1", 8080],
    ["[fe80::1%eth0]:1", "fe80::1%eth0", 1],
    ["[::ffff:10.0.0.1]:65535", "::ffff:10.0.0.1", 65535],
    ["etcd-1.example:2379", "etcd-1.example", 2379],
  ];
  for (const [addr, host, port] of rows) {
    assertEquals(parseHostPort(addr), { host, port }, addr);
    assertEquals(formatHostPort(host, port), addr, addr);
  }
  assertEquals(parseHostPort(":8080", { emptyHost: true }), { host: "", port: 8080 });
});

Deno.test("hostPortProblem() names what is wrong", () => {
  const rows: Array<[string, string | undefined]> = [
    ["127.0.0.1:99999", "port 99999 out of range 1-65535"],
    ["127.0.0.1:0", "port 0 out of range 1-65535"],
    ["127.0.0.1:000080", "port 000080 out of range 1-65535"],
    ["localhost", "not HOST:PORT (IPv6 as [ADDR]:PORT)"],
    ["::1:53", "not HOST:PORT (IPv6 as [ADDR]:PORT)"],
    ["[::1]", "not HOST:PORT (IPv6 as [ADDR]:PORT)"],
    ["[nothex]:53", "not HOST:PORT (IPv6 as [ADDR]:PORT)"],
    ["host:53 ", "not HOST:PORT (IPv6 as [ADDR]:PORT)"],
    ["http://host:53", "not HOST:PORT (IPv6 as [ADDR]:PORT)"],
    ["user@host:53", "not HOST:PORT (IPv6 as [ADDR]:PORT)"],
    ["host:+53", "not HOST:PORT (IPv6 as [ADDR]:PORT)"],
    [":53", "no host before the port"],
    ["host:53", undefined],
  ];
  for (const [addr, want] of rows) assertEquals(hostPortProblem(addr), want, addr);
  assertEquals(hostPortProblem(":53", { emptyHost: true }), undefined);
  assertThrows(
    () => parseHostPort("127.0.0.1:99999"),
    new TypeError('Cannot use address "127.0.0.1:99999": port 99999 out of range 1-65535'),
  );
});
