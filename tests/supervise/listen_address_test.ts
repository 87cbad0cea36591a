import { assert, assertEquals, assertThrows } from "../_assert.ts";
import {
  decodeSockaddr,
  formatSocketAddress,
  ipBytes,
  isDualStack,
  listenEntriesProblem,
  listenEntryProblem,
  listenStream,
  parseListenEntry,
  sameAddress,
  sockaddr,
} from "../../src/supervise/listen_address.ts";
import { listenEnv, shimCommandLine } from "../../src/supervise/listen_shim.ts";
import { parseConfig } from "../../src/config/parse.ts";

Deno.test("parseListenEntry() reads tcp and unix entries, named or not", () => {
  const rows: Array<[string, Record<string, unknown>]> = [
    ["tcp:127.0.0.1:8080", { kind: "tcp", name: undefined, host: "127.0.0.1", port: 8080 }],
    ["http=tcp:[::1]:443", { kind: "tcp", name: "http", host: "::1", port: 443 }],
    ["tcp::8080", { kind: "tcp", name: undefined, host: "", port: 8080 }],
    ["tcp:[::]:80", { kind: "tcp", name: undefined, host: "::", port: 80 }],
    ["tcp:0.0.0.0:80", { kind: "tcp", name: undefined, host: "0.0.0.0", port: 80 }],
    ["unix:ys/app.sock", { kind: "unix", name: undefined, path: "ys/app.sock" }],
    ["admin.v2=unix:/run/app/admin.sock", {
      kind: "unix",
      name: "admin.v2",
      path: "/run/app/admin.sock",
    }],
    // A path with "=" in it is no name: a name has no "/" or ":".
    ["unix:ys/a=b.sock", { kind: "unix", name: undefined, path: "ys/a=b.sock" }],
  ];
  for (const [entry, want] of rows) {
    const got = parseListenEntry(entry);
    assertEquals({ ...got }, { ...want, entry }, entry);
  }
});

Deno.test("listenEntryProblem() says what is wrong with an entry", () => {
  const rows: Array<[string, RegExp]> = [
    ["127.0.0.1:8080", /must start with "tcp:" or "unix:"/],
    ["udp:127.0.0.1:53", /must start with "tcp:" or "unix:"/],
    ["tcp:localhost:8080", /"localhost" is not an IP address/],
    ["tcp:127.0.0.1", /not HOST:PORT/],
    ["tcp:127.0.0.1:0", /port 0 out of range 1-65535/],
    ["tcp:127.0.0.1:70000", /port 70000 out of range/],
    ["tcp:::1:80", /not HOST:PORT/],
    ["tcp:[fe80::1%eth0]:80", /not an IP address/],
    ["tcp:1.2.3.256:80", /not an IP address/],
    ["tcp:01.2.3.4:80", /not an IP address/],
    ["unix:", /no path after "unix:"/],
    ["unix:@abstract", /abstract sockets/],
    [`unix:${"x".repeat(108)}`, /108 bytes, longer than the 107/],
    ["=tcp:127.0.0.1:80", /name "" must be 1 to 64 letters/],
    ["my name=tcp:127.0.0.1:80", /name "my name" must be/],
  ];
  for (const [entry, want] of rows) {
    const problem = listenEntryProblem(entry);
    assert(problem !== undefined && want.test(problem), `${entry}: ${problem}`);
  }
  assertThrows(
    () => parseListenEntry("tcp:localhost:80"),
    Error,
    'Cannot use listen entry "tcp:localhost:80": "localhost" is not an IP address',
  );
  assertEquals(listenEntryProblem(`unix:${"x".repeat(107)}`), undefined);
});

Deno.test("listenEntriesProblem() finds an address listed twice, however written", () => {
  assertEquals(listenEntriesProblem(["tcp:127.0.0.1:80", "unix:ys/a.sock"]), undefined);
  assertEquals(listenEntriesProblem(["a=tcp:127.0.0.1:80", "b=tcp:127.0.0.1:80"]), {
    index: 1,
    message: '"b=tcp:127.0.0.1:80" is the address of item 1 again',
  });
  assertEquals(listenEntriesProblem(["tcp::80", "tcp:[::]:80"])?.index, 1);
  assertEquals(listenEntriesProblem(["tcp:[::1]:80", "tcp:[0:0::1]:80"])?.index, 1);
  assertEquals(listenEntriesProblem(["unix:ys/a.sock", "unix:./ys/a.sock"])?.index, 1);
  assertEquals(listenEntriesProblem(["tcp:127.0.0.1:80", "tcp:127.0.0.1:81"]), undefined);
  const many = Array.from({ length: 65 }, (_, i) => `tcp:127.0.0.1:${1000 + i}`);
  assertEquals(listenEntriesProblem(many), { index: 64, message: "at most 64 entries" });
});

Deno.test("the configuration names the key and the item of a bad entry", () => {
  const bad = (toml: string) => {
    try {
      parseConfig(`auth_file = "p"\n[process]\n${toml}\n`, "ysco.toml");
    } catch (err) {
      return (err as Error).message;
    }
    return "";
  };
  const one = bad('listen = ["tcp:127.0.0.1:8080", "tcp:localhost:80"]');
  assert(
    one.includes('process.listen: item 2 "tcp:localhost:80": "localhost" is not an IP address'),
    one,
  );
  const twice = bad('listen = ["tcp:127.0.0.1:8080", "x=tcp:127.0.0.1:8080"]');
  assert(
    twice.includes('process.listen: item 2: "x=tcp:127.0.0.1:8080" is the address of item 1'),
    twice,
  );
  assertEquals(bad('listen = ["http=tcp:127.0.0.1:8080", "unix:ys/app.sock"]'), "");
});

Deno.test("ipBytes() reads IPv4 and IPv6 addresses and nothing else", () => {
  assertEquals([...(ipBytes("127.0.0.1") ?? [])], [127, 0, 0, 1]);
  assertEquals([...(ipBytes("::1") ?? [])], [...new Array(15).fill(0), 1]);
  assertEquals(
    [...(ipBytes("2001:db8::ff00:42:8329") ?? [])],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0, 0x42, 0x83, 0x29],
  );
  assertEquals(
    [...(ipBytes("::ffff:192.0.2.1") ?? [])],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1],
  );
  assertEquals([...(ipBytes("1:2:3:4:5:6:7:8") ?? [])].length, 16);
  for (const bad of ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "1:2:3:4:5:6:7", "::g", "1.2.3"]) {
    assertEquals(ipBytes(bad), undefined, bad);
  }
});

Deno.test("sockaddr() encodes Linux socket addresses, and decodeSockaddr() reads them back", () => {
  const v4 = sockaddr(parseListenEntry("tcp:127.0.0.1:8080"));
  assertEquals([...v4.slice(0, 8)], [2, 0, 0x1f, 0x90, 127, 0, 0, 1]);
  assertEquals(v4.length, 16);
  const v6 = sockaddr(parseListenEntry("tcp:[::1]:443"));
  assertEquals([v6.length, v6[0], v6[2], v6[3], v6[23]], [28, 10, 0x01, 0xbb, 1]);
  const any = parseListenEntry("tcp::80");
  assert(isDualStack(any));
  assertEquals([sockaddr(any).length, sockaddr(any)[0], sockaddr(any, true).length], [28, 10, 16]);
  const v4any = parseListenEntry("tcp:0.0.0.0:80");
  assert(!isDualStack(v4any));
  assertEquals(sockaddr(v4any).length, 16);
  const unix = sockaddr(parseListenEntry("unix:ys/app.sock"));
  assertEquals([unix.length, unix[0], new TextDecoder().decode(unix.slice(2, 13))], [
    110,
    1,
    "ys/app.sock",
  ]);

  assertEquals(formatSocketAddress(decodeSockaddr(v4, 16)), "127.0.0.1:8080");
  assertEquals(formatSocketAddress(decodeSockaddr(v6, 28)), "[::1]:443");
  assertEquals(formatSocketAddress(decodeSockaddr(sockaddr(any), 28)), "[::]:80");
  assertEquals(formatSocketAddress(decodeSockaddr(unix, 2 + 12)), "ys/app.sock");
  assertEquals(decodeSockaddr(new Uint8Array([16, 0, 0, 0]), 4), { kind: "other", family: 16 });
});

Deno.test("sameAddress() matches a socket from systemd to the entry with its address", () => {
  const of = (entry: string) => decodeSockaddr(sockaddr(parseListenEntry(entry)), 110);
  const rows: Array<[string, string, boolean]> = [
    ["tcp:127.0.0.1:8080", "tcp:127.0.0.1:8080", true],
    ["tcp:127.0.0.1:8080", "tcp:127.0.0.1:8081", false],
    ["tcp:127.0.0.1:8080", "tcp:127.0.0.2:8080", false],
    ["tcp::8080", "tcp:[::]:8080", true],
    ["tcp::8080", "tcp:0.0.0.0:8080", true],
    ["tcp:0.0.0.0:8080", "tcp::8080", true],
    ["tcp:[::1]:8080", "tcp:[0::1]:8080", true],
    ["tcp:127.0.0.1:8080", "tcp:[::ffff:127.0.0.1]:8080", true],
    ["tcp:127.0.0.1:8080", "unix:/srv/app/x", false],
    ["unix:ys/app.sock", "unix:/srv/app/ys/app.sock", true],
    ["unix:/srv/app/ys/app.sock", "unix:/srv/app/ys/app.sock", true],
    ["unix:ys/app.sock", "unix:/srv/other/ys/app.sock", false],
  ];
  for (const [entry, socket, want] of rows) {
    assertEquals(
      sameAddress(parseListenEntry(entry), of(socket), "/srv/app"),
      want,
      `${entry} ${socket}`,
    );
  }
});

Deno.test("listenStream() writes entries as systemd's ListenStream= does", () => {
  const rows: Array<[string, string]> = [
    ["tcp:127.0.0.1:8080", "127.0.0.1:8080"],
    ["tcp:[::1]:8080", "[::1]:8080"],
    ["tcp::8080", "8080"],
    ["tcp:[::]:8080", "8080"],
    ["tcp:0.0.0.0:8080", "0.0.0.0:8080"],
    ["unix:ys/app.sock", "/srv/app/ys/app.sock"],
    ["unix:/run/app.sock", "/run/app.sock"],
  ];
  for (const [entry, want] of rows) {
    assertEquals(listenStream(parseListenEntry(entry), "/srv/app"), want, entry);
  }
  assertThrows(
    () => listenStream(parseListenEntry(`unix:${"x".repeat(100)}`), "/srv/app"),
    Error,
    "longer than the 107 bytes",
  );
});

Deno.test("shimCommandLine() moves the descriptors to 3.. and execs the command keeping its pid", () => {
  const line = shimCommandLine(
    { program: "/usr/bin/setpriv", args: ["--reuid=1", "--", "./app"] },
    [
      200,
      201,
    ],
  );
  assertEquals(line, {
    program: "/bin/bash",
    args: [
      "--posix",
      "-c",
      'exec 3<&200 4<&201 200<&- 201<&-; export LISTEN_PID=$$; exec "$@"',
      "ysco-listen",
      "/usr/bin/setpriv",
      "--reuid=1",
      "--",
      "./app",
    ],
  });
  assertThrows(() => shimCommandLine({ program: "x", args: [] }, [3]), Error, "among fds 3..");
  assertEquals(listenEnv({ A: "1", LISTEN_PID: "9", LISTEN_FDS: "9" }, ["http", "app"]), {
    A: "1",
    LISTEN_FDS: "2",
    LISTEN_FDNAMES: "http:app",
  });
  assertEquals(listenEnv({ A: "1", LISTEN_FDNAMES: "x" }, []), { A: "1" });
});
