/**
 * The pure parts of `ysco init`: package path trimming, names, the password, the
 * admin URL, the progress display and the configuration it writes.
 */

import { CONFIG_SCHEMA } from "../../src/config/config.ts";
import { describeConfig, formatConfigChanges, tomlString } from "../../src/config/describe.ts";
import { defaultConfig } from "../../src/config/load.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { configFromFlags, finalMessage } from "../../src/cli/init.ts";
import { foundVersion } from "../../src/discover/mod.ts";
import { UsageError } from "../../src/errors.ts";
import {
  adminUrl,
  commandName,
  generatePassword,
  type InitResult,
  modulePrefixes,
  newestStable,
  PASSWORD_LENGTH,
} from "../../src/deploy/init_deployment.ts";
import {
  createProgress,
  formatBytes,
  formatProgressLine,
  formatProgressNote,
} from "../../src/cli/progress.ts";
import { assert, assertEquals, assertThrows } from "../_assert.ts";
import { poll } from "../../world/process.ts";

Deno.test("modulePrefixes() lists the package path and each shorter prefix", () => {
  const rows: Array<[string, string[]]> = [
    // A command in a subdirectory of its module.
    ["example.com/m/cmd/x", [
      "example.com/m/cmd/x",
      "example.com/m/cmd",
      "example.com/m",
      "example.com",
    ]],
    // A module of one element.
    ["example.com", ["example.com"]],
  ];
  for (const [path, want] of rows) assertEquals(modulePrefixes(path), want, path);
});

Deno.test("commandName() names a command as go install does", () => {
  const rows: Array<[string, string]> = [
    ["github.com/mjl-/moxtools", "moxtools"],
    ["example.com/m/cmd/tool", "tool"],
    // A major version suffix names the element before it.
    ["example.com/tool/v2", "tool"],
    ["example.com/tool/v10", "tool"],
    // v0, v1 and v01 are not major version suffixes.
    ["example.com/tool/v1", "v1"],
    ["example.com/tool/v0", "v0"],
    ["example.com/tool/v01", "v01"],
  ];
  for (const [path, want] of rows) assertEquals(commandName(path), want, path);
});

Deno.test("newestStable() skips prereleases and pseudo-versions", () => {
  const found = (vs: string[]) => vs.map((v) => foundVersion(v));
  assertEquals(newestStable(found(["v1.2.0-rc.1", "v1.1.0", "v1.0.0"])), "v1.1.0");
  assertEquals(
    newestStable(found(["v0.0.0-20240102030405-abcdef123456", "v0.1.0-beta"])),
    undefined,
  );
  assertEquals(newestStable(found(["v2.0.0+incompatible"])), "v2.0.0+incompatible");
});

Deno.test("generatePassword() draws letters and digits evenly", () => {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (let i = 0; i < 2000; i++) {
    const p = generatePassword();
    assertEquals(p.length, PASSWORD_LENGTH);
    assert(/^[A-Za-z0-9]+$/.test(p), p);
    seen.add(p);
    for (const c of p) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assertEquals(seen.size, 2000);
  assertEquals(counts.size, 62);
  // 32000 characters over 62 symbols: about 516 each; modulo bias would favour the first 8 by 25%.
  for (const [c, n] of counts) assert(n > 380 && n < 660, `${c}: ${n}`);
});

Deno.test("adminUrl() shows a reachable host with the credentials", () => {
  const rows: Array<[string, string]> = [
    ["127.0.0.1:1234", "http://admin:pw@127.0.0.1:1234/"],
    // Listening on all addresses: localhost reaches it.
    [":8080", "http://admin:pw@localhost:8080/"],
    ["0.0.0.0:8080", "http://admin:pw@localhost:8080/"],
    ["[::]:8080", "http://admin:pw@[::1]:8080/"],
    ["[::1]:8080", "http://admin:pw@[::1]:8080/"],
  ];
  for (const [addr, want] of rows) assertEquals(adminUrl(addr, "pw"), want, addr);
});

Deno.test("formatProgressLine() fits a bar, the percentage and the sizes in the width", () => {
  assertEquals(formatBytes(0), "0 B");
  assertEquals(formatBytes(999), "999 B");
  assertEquals(formatBytes(5_386_375), "5.4 MB");
  assertEquals(formatBytes(12_500_000), "13 MB");
  const rows: Array<[number, number, number, string]> = [
    // [done, total, columns, line]: the bar keeps its width as the sizes change.
    [0, 5_000_000, 40, "x [>          ]   0%  0 B of 5.0 MB"],
    [2_500_000, 5_000_000, 40, "x [=====>     ]  50%  2.5 MB of 5.0 MB"],
    [5_000_000, 5_000_000, 40, "x [===========] 100%  5.0 MB of 5.0 MB"],
    // Narrow terminals keep a bar of 10 and cut the end.
    [5_000_000, 5_000_000, 30, "x [==========] 100%  5.0 MB o"],
    // Wide ones a bar of at most 40.
    [5_000_000, 5_000_000, 200, `x [${"=".repeat(40)}] 100%  5.0 MB of 5.0 MB`],
  ];
  for (const [done, total, columns, want] of rows) {
    const line = formatProgressLine("x", done, total, columns);
    assertEquals(line, want);
    assert(line.length < columns);
  }
  assertEquals(formatProgressNote("x", 1, 4), "downloading x: 25% (1 B of 4 B)");
});

Deno.test("createProgress() redraws in place on a terminal and prints tenths elsewhere", () => {
  let now = 0;
  const term: string[] = [];
  const bar = createProgress({
    label: "x",
    total: 100,
    write: (t) => term.push(t),
    terminal: true,
    columns: 60,
    now: () => now,
  });
  bar.update(10); // within 100 ms of the first draw: skipped
  now = 150;
  bar.update(20);
  bar.update(30); // skipped again
  bar.end(true);
  assertEquals(term.length, 4);
  assert(term.slice(0, 3).every((t) => t.startsWith("\r") && t.endsWith("\x1b[K")), term.join());
  assert(term[1]?.includes(" 20% "), term[1] ?? "");
  assert(term[2]?.includes(" 30% "), term[2] ?? "");
  assertEquals(term[3], "\n");

  const plain: string[] = [];
  const notes = createProgress({
    label: "x",
    total: 100,
    write: (t) => plain.push(t),
    terminal: false,
  });
  for (let i = 1; i <= 100; i += 7) notes.update(i);
  notes.update(100);
  notes.end(true);
  assertEquals(plain.map((l) => /(\d+)%/.exec(l)?.[1]), [
    "0",
    "15",
    "22",
    "36",
    "43",
    "50",
    "64",
    "71",
    "85",
    "92",
    "100",
  ]);
  assert(plain.every((l) => l.endsWith("\n") && !l.includes("\r")));

  const stopped: string[] = [];
  const failed = createProgress({
    label: "x",
    total: 100,
    write: (t) => stopped.push(t),
    terminal: false,
  });
  failed.update(40);
  failed.end(false);
  failed.update(50); // after the end: ignored
  assertEquals(stopped.slice(-1), ["downloading x: stopped\n"]);
});

Deno.test("createProgress() draws the last state soon after the bytes stop coming", async () => {
  const term: string[] = [];
  const bar = createProgress({
    label: "x",
    total: 100,
    write: (t) => term.push(t),
    terminal: true,
  });
  bar.update(40); // within the redraw interval of the first draw: drawn a little later
  assertEquals(term.length, 1);
  await poll("the trailing redraw", () => term.length === 2 ? true : undefined, 5_000);
  assert(term[1]?.includes(" 40% "), term[1] ?? "");
  bar.end(false);
  assertEquals(term[term.length - 1], "  stopped\n");
});

Deno.test("formatConfigChanges() writes only what differs and parses back to the same configuration", () => {
  const base = { ...defaultConfig(), auth_file: "ys/password.txt" };
  const rows: Array<[string, typeof base]> = [
    ["defaults", base],
    ["sources", {
      ...base,
      monitor: { ...base.monitor, resolver: "127.0.0.1:53", methods: ["goproxy"] },
      gobuild: { ...base.gobuild, base_url: "https://gobuild.example/tlog", timeout: 90_000 },
    }],
    ["every kind", {
      ...base,
      log_level: "debug",
      update: {
        ...base.update,
        all: true,
        schedule: ["mo-fr 9-17", "sa 10-12"],
        delay: 0,
        before: 'echo "quoted" \\ tab\there\nnewline \u007f del \u00e9 \u{1f600}',
      },
      // Config types fleet.etcd as never[] (its default is [] without an example).
      fleet: { ...base.fleet, max_concurrent: 3, etcd: ["http://10.0.0.1:2379"] as never[] },
      links: [{ url: "https://status.example.com/", text: "" }, {
        url: "https://x.example/",
        text: "x",
      }],
    }],
    ["the example configuration", { ...parseConfig(describeConfig("annotated")) }],
  ];
  for (const [name, config] of rows) {
    const text = formatConfigChanges(config, "header");
    assertEquals(parseConfig(text), config, name);
    assert(text.startsWith("# header\n"), name);
  }
  const minimal = formatConfigChanges(base, "h");
  assertEquals(minimal.split("\n").filter((l) => l !== "" && !l.startsWith("#")), [
    'auth_file = "ys/password.txt"',
  ]);
  const sources = formatConfigChanges(rows[1]?.[1] ?? base, "h");
  assertEquals(sources.split("\n").filter((l) => l !== "" && !l.startsWith("#")), [
    'auth_file = "ys/password.txt"',
    "[monitor]",
    'methods = ["goproxy"]',
    'resolver = "127.0.0.1:53"',
    "[gobuild]",
    'base_url = "https://gobuild.example/tlog"',
    'timeout = "1m30s"',
  ]);
  // Each written key carries its documentation.
  assert(sources.includes(`# ${CONFIG_SCHEMA.monitor.fields.resolver.doc.slice(0, 40)}`), sources);
  assertEquals(tomlString('a"b\\c\u0001'), '"a\\"b\\\\c\\u0001"');
});

Deno.test("configFromFlags() checks values as ysco.toml would and names the flag", () => {
  const config = configFromFlags({ methods: "goproxy, dns", gopherwatch: "l.example.org" });
  assertEquals(config.monitor.methods, ["goproxy", "dns"]);
  assertEquals(config.monitor.dns, "l.example.org");
  const rows: Array<[Parameters<typeof configFromFlags>[0], string]> = [
    [{ resolver: "nope" }, 'flag "-resolver": not HOST:PORT (IPv6 as [ADDR]:PORT)'],
    [
      { methods: "dns,carrier-pigeon" },
      'flag "-methods": item 2: must be one of "dns", "goproxy", not "carrier-pigeon"',
    ],
    [{ goproxy: "ftp://x" }, 'flag "-goproxy": URL scheme must be http or https, not "ftp"'],
    [{ verifierkey: "x" }, 'flag "-verifierkey": '],
  ];
  for (const [flags, message] of rows) {
    assertThrows(
      () => configFromFlags(flags),
      (e: unknown) => e instanceof UsageError && e.message.startsWith(message),
      message,
    );
  }
});

Deno.test("finalMessage() prints the command to run with -dir when it is not the default", () => {
  const result: InitResult = {
    module: "example.com/m",
    pkgDir: "/cmd/x",
    version: "v1.2.3",
    goVersion: "go1.23.4",
    method: "dns",
    binary: "x-v1.2.3-go1.23.4",
    link: "x",
    ysco: "created",
    yscoTarget: "ysco-v0.1.0-linux-amd64",
    password: "pw",
    configText: "",
    recordId: 1,
    treeSize: 2,
  };
  const text = finalMessage(result, { cwd: "/srv/x", dir: "state", addr: "127.0.0.1:1234" });
  assert(text.includes("\n  ./ysco run -addr 127.0.0.1:1234 -dir state ./x\n"), text);
  assert(text.includes("\n  ysco -> ysco-v0.1.0-linux-amd64\n"), text);
  assert(text.includes("http://admin:pw@127.0.0.1:1234/"), text);
  const none = finalMessage({ ...result, ysco: "none" }, {
    cwd: "/srv/x",
    dir: "ys",
    addr: "127.0.0.1:1234",
  });
  assert(none.includes("\n  ysco run -addr 127.0.0.1:1234 ./x\n"), none);
  assert(none.includes("No ./ysco symlink"), none);
});
