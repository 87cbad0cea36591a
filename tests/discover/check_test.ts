import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { startDnsmasq } from "../../world/dnsmasq.ts";
import { goBuild, goProxyDir, TESTSVC, TESTSVC_V2 } from "../../world/go.ts";
import { startGoProxy } from "../../world/goproxy_server.ts";
import { tempDir, ysco } from "../../world/util.ts";
import { toolchainListText } from "../../world/toolchain_list.ts";

const TESTSVC_NAME = "testsvc._.example.com.v0.l.gopherwatch.org";
const TOOLCHAIN = "v=go1.23.2 k=cur t=670d2a3b; v=go1.22.8 k=prev t=670d2a3b";

async function writeConfig(dir: string, resolver: string, goproxy: string): Promise<void> {
  await Deno.writeTextFile(
    `${dir}/ysco.toml`,
    `auth_file = "password.txt"\n\n[monitor]\nresolver = "${resolver}"\ngoproxy = "${goproxy}"\n`,
  );
}

Deno.test("ysco check on a binary shows every method's answer, versions, new major and toolchains", async () => {
  await using dns = await startDnsmasq({
    txt: [[TESTSVC_NAME, ["v=v1.1.0 t=65920080"]], ["toolchain.v0.l.gopherwatch.org", [TOOLCHAIN]]],
  });
  await using proxy = startGoProxy({
    dir: await goProxyDir(),
    files: { "golang.org/toolchain/@v/list": toolchainListText() },
  });
  await using dir = await tempDir();
  await writeConfig(dir.path, dns.address, proxy.url);
  const binary = await goBuild({ version: "v1.0.0" });

  const out = await ysco(["check", "-dir", dir.path, binary]);
  assertEquals(out.code, 0, out.stderr);
  const lines = out.stdout.split("\n");
  assertEquals(lines.slice(0, 5), [
    `module      ${TESTSVC}`,
    lines[1]?.startsWith(`binary      ${binary}: v1.0.0, go1.23.`) ? lines[1] : "binary line",
    "versions    v1.1.0 (discovered 2024-01-01), v1.0.1, v1.0.0 (from dns)",
    `new major   ${TESTSVC_V2} v2.0.0`,
    "toolchains  cur go1.23.2, prev go1.22.8, next - (from dns)",
  ]);
  // Policy patch on v1.0 with DNS naming only v1.1.0: the proxy filled in v1.0.1.
  assertMatch(
    out.stdout,
    /\n {2}dns {6}versions {10}testsvc\._\.example\.com\.v0\.l\.gopherwatch\.org\.\n/,
  );
  assertMatch(out.stdout, new RegExp(`resolver ${dns.address}\\)\\n`));
  assertMatch(out.stdout, /goproxy {2}older minor line/);
  assertMatch(
    out.stdout,
    /goproxy {2}toolchains .*\n.*cur go1\.25\.5, prev go1\.24\.11, next go1\.26rc2\n/,
  );

  const json = await ysco(["check", "--json", "--dir", dir.path, binary]);
  assertEquals(json.code, 0, json.stderr);
  const result = JSON.parse(json.stdout);
  assertEquals(result.module, TESTSVC);
  assertEquals(result.binary.version, "v1.0.0");
  assertEquals(result.method, "dns");
  assertEquals(result.versions.map((v: { version: string }) => v.version), [
    "v1.1.0",
    "v1.0.1",
    "v1.0.0",
  ]);
  assertEquals(result.versions[0].time, "2024-01-01T00:00:00.000Z");
  assertEquals(result.newMajor.module, TESTSVC_V2);
  assertEquals(
    [
      result.toolchains.method,
      result.toolchains.cur,
      result.toolchains.prev,
      result.toolchains.next,
    ],
    ["dns", "go1.23.2", "go1.22.8", ""],
  );
  assertEquals(result.moduleError, null);
  const purposes = result.reports.map((r: { method: string; purpose: string }) =>
    `${r.method} ${r.purpose}`
  );
  assert(
    purposes.includes("dns versions") && purposes.includes("goproxy versions"),
    purposes.join(),
  );
  assert(purposes.includes("goproxy toolchains"));
});

Deno.test("ysco check on a module path exits 0 when one method answers, 1 when none", async () => {
  await using dns = await startDnsmasq({ txt: [["toolchain.v0.l.gopherwatch.org", [TOOLCHAIN]]] });
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  await using dir = await tempDir();
  await writeConfig(dir.path, dns.address, proxy.url);

  // DNS does not know the module, the proxy does; the proxy has no toolchain list, DNS has.
  const one = await ysco(["check", "-dir", dir.path, "-json", TESTSVC]);
  assertEquals(one.code, 0, one.stderr);
  const result = JSON.parse(one.stdout);
  assertEquals(result.method, "goproxy");
  assertEquals(result.binary, undefined);
  const failed = result.reports.filter((r: { ok: boolean }) => !r.ok);
  assertEquals(failed.map((r: { method: string; purpose: string }) => `${r.method} ${r.purpose}`), [
    "dns versions",
    "goproxy toolchains",
  ]);
  assertMatch(failed[0].error, /NXDOMAIN/);
  assertMatch(failed[1].error, /status 404/);

  proxy.mode = "500";
  const none = await ysco(["check", "-dir", dir.path, TESTSVC]);
  assertEquals(none.code, 1);
  assertMatch(
    none.stdout,
    /^versions {4}error: Cannot look up module "example\.com\/testsvc": dns: .*NXDOMAIN.*; goproxy: .*status 500/m,
  );
  assertMatch(
    none.stdout,
    /error: Cannot fetch ".*\/@v\/list": status 500 Internal Server Error, expected 200 \("proxy is having a bad day"\)/,
  );
});

Deno.test("ysco check refuses a bad target, a bad configuration and a bad command line", async () => {
  await using dir = await tempDir();
  const notGo = `${dir.path}/notes.txt`;
  await Deno.writeTextFile(notGo, "hello\n");
  const rows: Array<[string[], number, RegExp]> = [
    // [args, exit status, stderr]
    [
      ["check", "-dir", dir.path, "Example.com/x"],
      1,
      /"Example.com\/x" is neither a file nor a module path: malformed module path/,
    ],
    [["check", "-dir", dir.path, notGo], 1, /notes\.txt: not an executable/],
    [["check"], 2, /missing TARGET/],
    [["check", "a.b/c", "d.e/f"], 2, /unexpected argument "d.e\/f"/],
  ];
  for (const [args, code, stderr] of rows) {
    const out = await ysco(args);
    assertEquals(out.code, code, args.join(" "));
    assertMatch(out.stderr, stderr);
  }
  await Deno.writeTextFile(
    `${dir.path}/ysco.toml`,
    'auth_file = "pw"\n[monitor]\nmethods = ["carrier-pigeon"]\n',
  );
  const bad = await ysco(["check", "-dir", dir.path, TESTSVC]);
  assertEquals(bad.code, 1);
  assertMatch(bad.stderr, /ysco\.toml:3: monitor\.methods/);
});
