import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { goProxyDir, TESTSVC, TESTSVC_V2, TESTSVC_VERSIONS } from "../../world/go.ts";
import { startGoProxy } from "../../world/goproxy_server.ts";
import { toolchainListText } from "../../world/toolchain_list.ts";
import {
  fetchLatest,
  fetchToolchainList,
  fetchVersionList,
  GoProxyError,
  parseVersionList,
  proxyUrl,
} from "../../src/discover/goproxy.ts";

Deno.test("fetchVersionList() reads a module's versions from the proxy over HTTP, newest first", async () => {
  await using proxy = startGoProxy({ dir: await goProxyDir(), prefix: "/cached-only/" });
  assertEquals(await fetchVersionList(proxy.url, TESTSVC), [...TESTSVC_VERSIONS].reverse());
  assertEquals(await fetchVersionList(proxy.url, TESTSVC_V2), ["v2.0.0"]);
  // The base works with and without its final "/".
  assertEquals(await fetchVersionList(proxy.url.replace(/\/$/, ""), TESTSVC_V2), ["v2.0.0"]);
  assertEquals(proxy.requests, [
    `${TESTSVC}/@v/list`,
    `${TESTSVC_V2}/@v/list`,
    `${TESTSVC_V2}/@v/list`,
  ]);
});

Deno.test("fetchVersionList() escapes uppercase letters in the path", async () => {
  await using proxy = startGoProxy({
    files: { "github.com/!burnt!sushi/toml/@v/list": "v1.3.2\nv1.4.0\n" },
  });
  assertEquals(await fetchVersionList(proxy.url, "github.com/BurntSushi/toml"), [
    "v1.4.0",
    "v1.3.2",
  ]);
  assertEquals(
    proxyUrl("https://proxy.golang.org/cached-only", "github.com/BurntSushi/toml", "@v/list"),
    "https://proxy.golang.org/cached-only/github.com/!burnt!sushi/toml/@v/list",
  );
});

Deno.test("parseVersionList() sorts, keeps +incompatible and prereleases, rejects garbage", () => {
  const rows: Array<[string, string[]]> = [
    // [list, versions newest first]
    ["", []], // empty list: no versions, no error
    ["\n\n", []], // blank lines
    ["v1.0.0\nv1.10.0\nv1.2.0\n", ["v1.10.0", "v1.2.0", "v1.0.0"]], // semver order, not text order
    ["v2.0.0+incompatible\nv1.0.0\n", ["v2.0.0+incompatible", "v1.0.0"]], // the original fails here
    ["v1.1.0-rc.1\nv1.0.0\n", ["v1.1.0-rc.1", "v1.0.0"]], // prereleases listed
    ["v1.0.0 2024-01-02T03:04:05Z\n", ["v1.0.0"]], // extra fields ignored, as the go command does
    ["v1.0.0\r\nv1.0.1\r\n", ["v1.0.1", "v1.0.0"]], // CRLF
    ["v1.0.0\nv1.0.0\n", ["v1.0.0"]], // duplicates
  ];
  for (const [text, want] of rows) assertEquals(parseVersionList(text, "u"), want, text);
  for (const bad of ["<html>\n", "v1.0.0\n1.0.1\n", "v1.0.x\n"]) {
    let err: unknown;
    try {
      parseVersionList(bad, "http://p/x/@v/list");
    } catch (e) {
      err = e;
    }
    assert(err instanceof SyntaxError, bad);
    assert(
      /^Cannot parse version list "http:\/\/p\/x\/@v\/list": line \d is not a version/.test(
        err.message,
      ),
    );
  }
});

Deno.test("fetchVersionList() errors quote the URL, the status and the start of the body", async () => {
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  const url = `${proxy.url}${TESTSVC}/@v/list`;
  proxy.mode = "500";
  await assertRejects(
    () => fetchVersionList(proxy.url, TESTSVC),
    (err: unknown) =>
      err instanceof GoProxyError && err.status === 500 && !err.notFound &&
      err.message ===
        `Cannot fetch "${url}": status 500 Internal Server Error, expected 200 ("proxy is having a bad day")`,
  );
  proxy.mode = "ok";
  await assertRejects(
    () => fetchVersionList(proxy.url, "example.com/unknown"),
    (err: unknown) => err instanceof GoProxyError && err.status === 404 && err.notFound,
  );
  proxy.mode = "garbage";
  await assertRejects(
    () => fetchVersionList(proxy.url, TESTSVC),
    (err: unknown) =>
      err instanceof SyntaxError && /line 1 is not a version: "<html>/.test(err.message),
  );
  proxy.mode = "oversize";
  await assertRejects(
    () => fetchVersionList(proxy.url, TESTSVC),
    (err: unknown) =>
      err instanceof GoProxyError &&
      err.message === `Cannot fetch "${url}": answer larger than 1048576 bytes`,
  );
  // A connection refused is an error with the URL too.
  const port = new URL(proxy.url).port;
  await proxy[Symbol.asyncDispose]();
  await assertRejects(
    () => fetchVersionList(`http://127.0.0.1:${port}/`, TESTSVC),
    (err: unknown) =>
      err instanceof GoProxyError &&
      err.message.startsWith(`Cannot fetch "http://127.0.0.1:${port}/`),
  );
});

Deno.test("fetchVersionList() gives up when its signal aborts a slow proxy", async () => {
  await using proxy = startGoProxy({ dir: await goProxyDir() });
  proxy.mode = "slow";
  const controller = new AbortController();
  const pending = fetchVersionList(proxy.url, TESTSVC, { signal: controller.signal });
  const deadline = Date.now() + 5000;
  while (proxy.requests.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  controller.abort(new Error("took too long"));
  await assertRejects(() => pending, /took too long/);
});

Deno.test("fetchLatest() reads @latest, a pseudo-version for a module without tags", async () => {
  await using proxy = startGoProxy({
    files: {
      "example.com/notags/@latest":
        '{"Version":"v0.0.0-20240102030405-abcdef123456","Time":"2024-01-02T03:04:05Z"}',
      "example.com/bad/@latest": '{"Version":"latest"}',
    },
  });
  assertEquals(await fetchLatest(proxy.url, "example.com/notags"), {
    version: "v0.0.0-20240102030405-abcdef123456",
    time: new Date("2024-01-02T03:04:05Z"),
  });
  await assertRejects(() => fetchLatest(proxy.url, "example.com/bad"), SyntaxError);
});

Deno.test("fetchToolchainList() classifies a real-size golang.org/toolchain list", async () => {
  const text = toolchainListText();
  assert(text.length > 100_000);
  await using proxy = startGoProxy({ files: { "golang.org/toolchain/@v/list": text } });
  const list = await fetchToolchainList(proxy.url);
  assertEquals(list.toolchains, { cur: "go1.25.5", prev: "go1.24.11", next: "go1.26rc2" });
  assertEquals(list.skipped.map((s) => s.line), [
    "v0.0.1-go1.9.2rc2.linux-amd64",
    "v0.0.1-go1.9.2rc2.windows-amd64",
  ]);
  proxy.files["golang.org/toolchain/@v/list"] = "nonsense\n";
  await assertRejects(
    () => fetchToolchainList(proxy.url),
    /no toolchain versions, first line "nonsense"/,
  );
});
