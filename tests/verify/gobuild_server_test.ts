import { assertEquals } from "../_assert.ts";
import { goBuild } from "../../world/go.ts";
import { startGobuildServer, TEST_VERIFIER_KEY } from "../../world/gobuild_server.ts";
import { parseRecord } from "../../src/verify/buildspec.ts";
import { binarySum } from "../../src/verify/download.ts";
import {
  A9_BUILDS,
  A9_DATA_TILE,
  A9_LARGE,
  A9_LOOKUP_KEY,
  A9_LOOKUP_RESPONSE,
  A9_NOTE_0,
  A9_NOTE_3,
  A9_NOTE_5,
  A9_TILE,
} from "../../world/a9.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

async function get(url: string): Promise<{ status: number; body: Uint8Array }> {
  const res = await fetch(url);
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
}

Deno.test("the test server reproduces docs/protocols.md section 3.12 byte for byte over HTTP", async () => {
  await using server = await startGobuildServer();
  assertEquals(server.verifierKey, TEST_VERIFIER_KEY);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);
  assertEquals(dec((await get(`${server.tlogUrl}/latest`)).body), A9_NOTE_0);
  for (const [i, b] of A9_BUILDS.entries()) {
    const added = await server.addBuild(b.spec, enc(b.binary));
    assertEquals(added.id, i);
    assertEquals(added.text, b.text);
    if (i === 2) assertEquals(dec((await get(`${server.tlogUrl}/latest`)).body), A9_NOTE_3);
  }
  assertEquals(dec((await get(`${server.tlogUrl}/latest`)).body), A9_NOTE_5);
  assertEquals(
    dec((await get(`${server.tlogUrl}/lookup/${A9_LOOKUP_KEY}`)).body),
    A9_LOOKUP_RESPONSE,
  );
  const tile = await get(`${server.tlogUrl}/tile/8/0/000.p/5`);
  assertEquals(tile.body.length, 160);
  assertEquals(hex(tile.body), A9_TILE.join(""));
  assertEquals(
    hex((await get(`${server.tlogUrl}/tile/8/0/000.p/3`)).body),
    A9_TILE.slice(0, 3).join(""),
  );
  assertEquals(dec((await get(`${server.tlogUrl}/tile/8/data/000.p/5`)).body), A9_DATA_TILE);
  // Beyond the tree, non-canonical paths, unknown builds.
  assertEquals((await get(`${server.tlogUrl}/tile/8/0/000.p/6`)).status, 500);
  assertEquals((await get(`${server.tlogUrl}/tile/8/0/000`)).status, 500);
  assertEquals((await get(`${server.tlogUrl}/tile/8/0/00.p/5`)).status, 400);
  assertEquals(
    (await get(`${server.tlogUrl}/lookup/example.com/x@v1.0.0/linux-amd64-go1.23.3/`)).status,
    404,
  );
  // Downloads: the gzipped binary at the record's sum.
  const dl = await fetch(
    `${server.url}/example.com/mod@v1.2.3/cmd/tool/windows-amd64-go1.24.2-stripped/0HuiE-wCTPrkm2_5VsEVCf5hOoP8/tool-v1.2.3-go1.24.2-stripped.exe.gz`,
  );
  const binary = await new Response(dl.body?.pipeThrough(new DecompressionStream("gzip"))).text();
  assertEquals(binary, "binary four\n");
});

Deno.test("the test server logs real Go binaries with records computed from their bytes", async () => {
  await using server = await startGobuildServer();
  const path = await goBuild({ version: "v1.0.0" });
  const bytes = await Deno.readFile(path);
  const spec = {
    mod: "example.com/testsvc",
    version: "v1.0.0",
    dir: "/cmd/testsvc",
    goos: "linux",
    goarch: "amd64",
    goversion: "go1.23.5",
    stripped: true,
  };
  const added = await server.addBuild(spec, path);
  const sha = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  assertEquals(parseRecord(added.text), { ...spec, size: bytes.length, sum: binarySum(sha) });
  assertEquals(added.sha256, hex(sha));
  const res = await fetch(added.url);
  const got = new Uint8Array(
    await new Response(res.body?.pipeThrough(new DecompressionStream("gzip"))).arrayBuffer(),
  );
  assertEquals(got.length, bytes.length);
  assertEquals(hex(new Uint8Array(await crypto.subtle.digest("SHA-256", got))), hex(sha));
});

Deno.test("the test server's tree of 70000 records has the root of the larger vector of docs/protocols.md section 3.12", async () => {
  await using server = await startGobuildServer();
  for (let i = 0; i < A9_LARGE.size; i++) server.addRecord(`record ${i}\n`);
  const note = new TextDecoder().decode((await get(`${server.tlogUrl}/latest`)).body);
  assertEquals(note.split("\n").slice(0, 3), ["go.sum database tree", "70000", A9_LARGE.hash]);
  assertEquals((await get(`${server.tlogUrl}/tile/8/2/000.p/1`)).body.length, 32);
  assertEquals((await get(`${server.tlogUrl}/tile/8/1/001.p/17`)).body.length, 17 * 32);
  assertEquals((await get(`${server.tlogUrl}/tile/8/0/273.p/112`)).body.length, 112 * 32);
});
