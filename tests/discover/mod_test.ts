import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { startDnsmasq } from "../../world/dnsmasq.ts";
import { goProxyDir, TESTSVC, TESTSVC_V2 } from "../../world/go.ts";
import { startGoProxy } from "../../world/goproxy_server.ts";
import { startFakeDns } from "./_fake_dns.ts";
import { toolchainListText } from "../../world/toolchain_list.ts";
import { type Config, CONFIG_SCHEMA, type MonitorMethod } from "../../src/config/config.ts";
import { defaultOf } from "../../src/config/parse.ts";
import {
  discoverModule,
  type DiscoverOptions,
  discoverToolchains,
  DiscoveryError,
  type FoundVersion,
} from "../../src/discover/mod.ts";

const TESTSVC_NAME = "testsvc._.example.com.v0.l.gopherwatch.org";
const TESTSVC_V2_NAME = "v2.testsvc._.example.com.v0.l.gopherwatch.org";
const T1 = "65920080"; // 2024-01-01T00:00:00Z
const TOOLCHAIN_NAME = "toolchain.v0.l.gopherwatch.org";

function monitor(overrides: Partial<Config["monitor"]>): Config["monitor"] {
  return { ...(defaultOf(CONFIG_SCHEMA.monitor) as Config["monitor"]), ...overrides };
}

/** Options that record method errors, with short DNS timeouts. */
function options(
  m: Config["monitor"],
): DiscoverOptions & { errors: Array<[MonitorMethod, string]> } {
  const errors: Array<[MonitorMethod, string]> = [];
  return {
    monitor: m,
    errors,
    onMethodError: (method, err) =>
      errors.push([method, err instanceof Error ? err.message : String(err)]),
    dns: { timeoutMs: 300, attempts: 1 },
  };
}

const versionsOf = (vs: FoundVersion[]) => vs.map((v) => v.version);

Deno.test("discoverModule() asks DNS first and stops at its answer", async () => {
  await using dns = await startDnsmasq({
    txt: [[TESTSVC_NAME, [`v=v1.1.0 t=${T1}`]], [TESTSVC_V2_NAME, [`v=v2.0.0 t=${T1}`]]],
  });
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  const opts = options(monitor({ resolver: dns.address, goproxy: proxy.url }));
  const found = await discoverModule(TESTSVC, opts);
  assertEquals(found.method, "dns");
  assertEquals(found.versions, [{
    version: "v1.1.0",
    time: new Date("2024-01-01T00:00:00Z"),
    prerelease: false,
    pseudo: false,
    incompatible: false,
  }]);
  // The next major is found by DNS too; v3 does not exist.
  assertEquals(found.newMajor?.module, TESTSVC_V2);
  assertEquals(found.newMajor?.version.version, "v2.0.0");
  assertEquals(found.reports.map((r) => [r.method, r.purpose, r.module, r.ok]), [
    ["dns", "versions", TESTSVC, true],
    ["dns", "new major", TESTSVC_V2, true],
    ["dns", "new major", "example.com/testsvc/v3", true],
  ]);
  assertEquals(found.reports[0]?.query, TESTSVC_NAME + ".");
  assertEquals(found.reports[0]?.resolver, dns.address);
  assertEquals(proxy.requests, [], "the proxy was not asked");
  assertEquals(opts.errors, []);
});

Deno.test("discoverModule() falls back to the proxy and reports the DNS failure", async () => {
  await using dns = await startDnsmasq({ txt: [] });
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  const opts = options(
    monitor({ resolver: dns.address, goproxy: proxy.url, methods: ["dns", "goproxy"] }),
  );
  const found = await discoverModule(TESTSVC, { ...opts, newMajor: false });
  assertEquals(found.method, "goproxy");
  assertEquals(versionsOf(found.versions), ["v1.1.0", "v1.0.1", "v1.0.0"]);
  assertEquals(opts.errors.length, 1);
  assertEquals(opts.errors[0]?.[0], "dns");
  assertMatch(
    opts.errors[0]?.[1] ?? "",
    new RegExp(`"${TESTSVC_NAME}" at ${dns.address}: no such name \\(NXDOMAIN\\)`),
  );
  assertEquals(found.reports.map((r) => [r.method, r.ok]), [["dns", false], ["goproxy", true]]);
  assertEquals(found.reports[1]?.query, `${proxy.url}${TESTSVC}/@v/list`);
});

Deno.test("discoverModule() gives each method its own time limit", async () => {
  await using silent = await startFakeDns();
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  await using dns = await startDnsmasq({ txt: [[TESTSVC_NAME, [`v=v1.1.0 t=${T1}`]]] });
  proxy.mode = "slow";
  const opts = options(
    monitor({ resolver: dns.address, goproxy: proxy.url, methods: ["goproxy", "dns"] }),
  );
  const found = await discoverModule(TESTSVC, { ...opts, methodTimeoutMs: 300, newMajor: false });
  assertEquals(found.method, "dns");
  assertEquals(opts.errors, [[
    "goproxy",
    `Cannot look up ${proxy.url}${TESTSVC}/@v/list: no answer within 0.3s`,
  ]]);

  // A resolver that never answers: the DNS method fails on its own timeout, not the method's.
  const quiet = options(monitor({ resolver: silent.address, methods: ["dns"] }));
  await assertRejects(
    () => discoverModule(TESTSVC, { ...quiet, newMajor: false }),
    (err: unknown) =>
      err instanceof DiscoveryError && err.reports.length === 1 &&
      /^Cannot look up module "example.com\/testsvc": dns: Cannot look up TXT .* no answer within 300 ms$/
        .test(
          err.message,
        ),
  );
  assertEquals(quiet.errors.length, 1);
});

Deno.test("discoverModule() fails with every method's reason when none answers", async () => {
  await using dns = await startDnsmasq({ txt: [] });
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  proxy.mode = "garbage";
  const opts = options(monitor({ resolver: dns.address, goproxy: proxy.url }));
  await assertRejects(
    () => discoverModule(TESTSVC, opts),
    (err: unknown) =>
      err instanceof DiscoveryError &&
      err.reports.map((r) => r.method).join() === "dns,goproxy" &&
      /dns: .*NXDOMAIN.*; goproxy: Cannot parse version list .* not a version: "<html>/.test(
        err.message,
      ),
  );
  assertEquals(opts.errors.map((e) => e[0]), ["dns", "goproxy"]);
});

Deno.test("discoverModule() refuses an invalid module path before any request", async () => {
  await using fake = await startFakeDns();
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  const opts = options(monitor({ resolver: fake.address, goproxy: proxy.url }));
  for (const path of ["Example.com/x", "example.com/x/v1", "example.com//x"]) {
    await assertRejects(() => discoverModule(path, opts), TypeError);
  }
  assertEquals(fake.queries.length + proxy.requests.length, 0);
  assertEquals(opts.errors, []);
});

Deno.test("discoverModule() consults the proxy for an older minor line under policy patch", async () => {
  // DNS names only the newest of each major: v1.1.0, not v1.0.1.
  await using dns = await startDnsmasq({ txt: [[TESTSVC_NAME, [`v=v1.1.0 t=${T1}`]]] });
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  const m = monitor({ resolver: dns.address, goproxy: proxy.url });
  const rows: Array<[string, "patch" | "minor", string[], boolean]> = [
    // [current, policy, versions, proxy asked]
    ["v1.0.0", "patch", ["v1.1.0", "v1.0.1", "v1.0.0"], true], // older line: the proxy fills in v1.0.x
    ["v1.0.0", "minor", ["v1.1.0"], false], // minor policy: the newest of the major is enough
    ["v1.1.0", "patch", ["v1.1.0"], false], // on the newest line already
  ];
  for (const [current, policy, want, asked] of rows) {
    proxy.requests.length = 0;
    const found = await discoverModule(TESTSVC, {
      ...options(m),
      current,
      policy,
      newMajor: false,
    });
    assertEquals(versionsOf(found.versions), want, `${current} ${policy}`);
    assertEquals(found.method, "dns");
    assertEquals(proxy.requests.length > 0, asked, `${current} ${policy}`);
    if (asked) assertEquals(found.reports.at(-1)?.purpose, "older minor line");
  }
  // The DNS time survives the merge.
  const found = await discoverModule(TESTSVC, {
    ...options(m),
    current: "v1.0.0",
    policy: "patch",
  });
  assert(found.versions[0]?.time instanceof Date);

  // Without goproxy in the methods, the proxy is not asked.
  proxy.requests.length = 0;
  const dnsOnly = monitor({ resolver: dns.address, goproxy: proxy.url, methods: ["dns"] });
  await discoverModule(TESTSVC, {
    ...options(dnsOnly),
    current: "v1.0.0",
    policy: "patch",
    newMajor: false,
  });
  assertEquals(proxy.requests, []);
});

Deno.test("discoverModule() finds a new major in the same path and at /vN", async () => {
  await using dns = await startDnsmasq({
    txt: [
      ["docker._.example.com.v0.l.gopherwatch.org", [
        `v=v28.2.2+incompatible t=${T1}; v=v1.13.1 t=${T1}`,
      ]],
      [TESTSVC_NAME, [`v=v1.1.0 t=${T1}; v=v0.9.0 t=${T1}`]],
    ],
  });
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  const m = monitor({ resolver: dns.address, goproxy: proxy.url });

  // +incompatible: higher majors live in the same path.
  const docker = await discoverModule("example.com/docker", { ...options(m), current: "v1.13.1" });
  assertEquals(docker.newMajor?.module, "example.com/docker");
  assertEquals(docker.newMajor?.version.version, "v28.2.2+incompatible");
  assert(docker.newMajor?.version.incompatible);
  assertEquals(docker.reports.at(-1)?.module, "example.com/docker/v29");

  // Running v0: v1 in the same path is the new major; DNS does not know v2, so no proxy asked.
  const v0 = await discoverModule(TESTSVC, { ...options(m), current: "v0.9.0" });
  assertEquals([v0.newMajor?.module, v0.newMajor?.version.version], [TESTSVC, "v1.1.0"]);

  // By proxy alone: example.com/testsvc/v2 exists, /v3 answers 404.
  const viaProxy = await discoverModule(TESTSVC, {
    ...options(monitor({ goproxy: proxy.url, methods: ["goproxy"] })),
    current: "v1.1.0",
  });
  assertEquals([viaProxy.newMajor?.module, viaProxy.newMajor?.version.version], [
    TESTSVC_V2,
    "v2.0.0",
  ]);
  assertEquals(proxy.requests.slice(-2), [
    `${TESTSVC_V2}/@v/list`,
    "example.com/testsvc/v3/@v/list",
  ]);

  // A module DNS does not know (a private one): the probe asks the proxy first, as it knew the module.
  await using empty = await startDnsmasq({ txt: [] });
  const both = monitor({ resolver: empty.address, goproxy: proxy.url });
  const privateModule = await discoverModule(TESTSVC, { ...options(both), current: "v1.1.0" });
  assertEquals(privateModule.method, "goproxy");
  assertEquals(privateModule.newMajor?.module, TESTSVC_V2);
  assertEquals(privateModule.reports.map((r) => `${r.method} ${r.purpose} ${r.module}`), [
    `dns versions ${TESTSVC}`,
    `goproxy versions ${TESTSVC}`,
    `goproxy new major ${TESTSVC_V2}`,
    "goproxy new major example.com/testsvc/v3",
  ]);

  // On the newest major, there is none.
  const none = await discoverModule(TESTSVC_V2, {
    ...options(monitor({ goproxy: proxy.url, methods: ["goproxy"] })),
    current: "v2.0.0",
  });
  assertEquals(none.newMajor, undefined);
});

Deno.test("discoverModule() marks prereleases and pseudo-versions", async () => {
  await using proxy = startGoProxy({
    files: {
      "example.com/rc/@v/list": "v1.0.0\nv1.1.0-rc.1\n",
      "example.com/notags/@v/list": "",
      "example.com/notags/@latest":
        '{"Version":"v0.0.0-20240102030405-abcdef123456","Time":"2024-01-02T03:04:05Z"}',
    },
  });
  const m = monitor({ goproxy: proxy.url, methods: ["goproxy"] });
  const rc = await discoverModule("example.com/rc", { ...options(m), newMajor: false });
  assertEquals(rc.versions.map((v) => [v.version, v.prerelease, v.pseudo]), [
    ["v1.1.0-rc.1", true, false],
    ["v1.0.0", false, false],
  ]);
  const pseudo = await discoverModule("example.com/notags", { ...options(m), newMajor: false });
  assertEquals(pseudo.versions, [{
    version: "v0.0.0-20240102030405-abcdef123456",
    time: new Date("2024-01-02T03:04:05Z"),
    prerelease: true,
    pseudo: true,
    incompatible: false,
  }]);
  assertEquals(pseudo.reports[0]?.query, `${proxy.url}example.com/notags/@latest`);
});

Deno.test("discoverModule() takes only canonical versions from DNS and the proxy", async () => {
  await using dns = await startDnsmasq({
    txt: [
      [TESTSVC_NAME, [`v=v1.2 t=${T1}; v=v1.1.0 t=${T1}`]],
      ["short._.example.com.v0.l.gopherwatch.org", [`v=v1.2 t=${T1}`]],
    ],
  });
  await using proxy = startGoProxy({
    files: {
      "example.com/listed/@v/list": "v1.0.0\nv1.1\nv2\nv1.0.1\n",
      "example.com/short/@v/list": "v1.2\n",
      "example.com/short/@latest": '{"Version":"v1.2","Time":"2024-01-02T03:04:05Z"}',
    },
  });
  const m = monitor({ resolver: dns.address, goproxy: proxy.url });

  // DNS: the shorthand is left out and reported; the canonical version is the answer.
  const viaDns = await discoverModule(TESTSVC, { ...options(m), newMajor: false });
  assertEquals([viaDns.method, versionsOf(viaDns.versions)], ["dns", ["v1.1.0"]]);
  assertEquals(viaDns.reports[0]?.ignored, ["v1.2"]);

  // The proxy's list: the same.
  const listed = await discoverModule("example.com/listed", {
    ...options(monitor({ goproxy: proxy.url, methods: ["goproxy"] })),
    newMajor: false,
  });
  assertEquals(versionsOf(listed.versions), ["v1.0.1", "v1.0.0"]);
  assertEquals(listed.reports[0]?.ignored, ["v2", "v1.1"]);

  // Nothing canonical anywhere: each method fails, saying why; nothing becomes a candidate.
  const opts = options(m);
  await assertRejects(
    () => discoverModule("example.com/short", { ...opts, newMajor: false }),
    (err: unknown) =>
      err instanceof DiscoveryError &&
      /dns: Cannot use ".*" from .*: no canonical version in the record, only "v1\.2"; goproxy: Cannot use ".*example\.com\/short\/@latest": version "v1\.2" is not canonical$/
        .test(err.message),
  );
  assertEquals(opts.errors.map((e) => e[0]), ["dns", "goproxy"]);
});

Deno.test("discoverModule() with allMethods asks every method and keeps the first answer", async () => {
  await using dns = await startDnsmasq({ txt: [[TESTSVC_NAME, [`v=v1.1.0 t=${T1}`]]] });
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  const found = await discoverModule(TESTSVC, {
    ...options(monitor({ resolver: dns.address, goproxy: proxy.url })),
    allMethods: true,
    newMajor: false,
  });
  assertEquals(found.method, "dns");
  assertEquals(versionsOf(found.versions), ["v1.1.0"]);
  assertEquals(found.reports.map((r) => [r.method, versionsOf(r.versions ?? [])]), [
    ["dns", ["v1.1.0"]],
    ["goproxy", ["v1.1.0", "v1.0.1", "v1.0.0"]],
  ]);
});

Deno.test("discoverToolchains() reads gopherwatch's record, else the proxy's list", async () => {
  await using dns = await startDnsmasq({
    txt: [[TOOLCHAIN_NAME, [
      "v=go1.23.2 k=cur t=670d2a3b; v=go1.22.8 k=prev t=670d2a3b; v=go1.24rc1 k=next t=670d2a3b",
    ]]],
  });
  await using proxy = startGoProxy({
    files: { "golang.org/toolchain/@v/list": toolchainListText() },
  });
  const viaDns = await discoverToolchains(
    options(monitor({ resolver: dns.address, goproxy: proxy.url })),
  );
  assertEquals(viaDns.method, "dns");
  assertEquals(viaDns.toolchains, { cur: "go1.23.2", prev: "go1.22.8", next: "go1.24rc1" });
  assertEquals(viaDns.times.cur, new Date(0x670d2a3b * 1000));
  assertEquals(proxy.requests, []);

  const opts = options(
    monitor({
      resolver: dns.address,
      goproxy: "http://127.0.0.1:9/",
      goproxy_toolchain: proxy.url,
      dns: "other.example",
    }),
  );
  const viaProxy = await discoverToolchains(opts);
  assertEquals(viaProxy.method, "goproxy");
  assertEquals(viaProxy.toolchains, { cur: "go1.25.5", prev: "go1.24.11", next: "go1.26rc2" });
  assertEquals(proxy.requests, ["golang.org/toolchain/@v/list"]);
  assertMatch(opts.errors[0]?.[1] ?? "", /"toolchain.v0.other.example" at .*REFUSED/);
});

Deno.test("discoverToolchains() takes a malformed record as the method's failure", async () => {
  await using dns = await startDnsmasq({ txt: [[TOOLCHAIN_NAME, ["v=go1.23.2 k=cur"]]] });
  await using proxy = startGoProxy({
    files: { "golang.org/toolchain/@v/list": toolchainListText() },
  });
  const opts = options(monitor({ resolver: dns.address, goproxy: proxy.url }));
  const found = await discoverToolchains(opts);
  assertEquals(found.method, "goproxy");
  assertEquals(opts.errors.map((e) => e[0]), ["dns"]);
  assertMatch(opts.errors[0]?.[1] ?? "", /no version in "v=go1.23.2 k=cur"/);
  assert(found.reports[0]?.ok === false && found.reports[1]?.ok === true);
});
