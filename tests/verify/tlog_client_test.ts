import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import type { Fault, Route, SignatureMode } from "../../world/gobuild_server.ts";
import { formatRecord } from "../../src/verify/buildspec.ts";
import { HttpStatusError, SecurityError, VerificationError } from "../../src/verify/errors.ts";
import { signerFromSeed, verifierKeyOf } from "../../src/verify/note.ts";
import { exists, fixture, lookupCacheFile, testsvcSpec } from "../../world/tlog_fixture.ts";

Deno.test("lookup() verifies a record, caches it, and answers again from the cache alone", async () => {
  await using f = await fixture();
  const { tlog } = f.client();
  const got = await tlog.lookup(testsvcSpec("v1.0.1"));
  const build = f.builds[1];
  assert(build);
  assertEquals(got.id, build.id);
  assertEquals(got.text, build.text);
  assertEquals(got.record, build.record);
  assertEquals(got.tree.size, f.server.size);
  assertEquals(got.cached, false);
  assertEquals(f.server.requests.map((r) => r.route), ["lookup", "tile"]);
  assertEquals((await f.storedNote()).split("\n")[1], String(f.server.size));
  assert(await exists(lookupCacheFile(f.dir, build.key)));

  // A new client (a new process) with the same cache: no network at all.
  const before = f.server.requests.length;
  const again = await f.client().tlog.lookup(testsvcSpec("v1.0.1"));
  assertEquals(again.cached, true);
  assertEquals(again.record, build.record);
  assertEquals(f.server.requests.length, before);
});

Deno.test("lookup() verifies cached answers again: a changed cached record is not used", async () => {
  await using f = await fixture();
  const build = f.builds[0];
  assert(build);
  await f.client().tlog.lookup(testsvcSpec("v1.0.0"));
  const file = lookupCacheFile(f.dir, build.key);
  const forged = (await Deno.readTextFile(file)).replace(build.record.sum, "0" + "A".repeat(27));
  await Deno.writeTextFile(file, forged);
  const before = f.server.requests.length;
  const got = await f.client().tlog.lookup(testsvcSpec("v1.0.0"));
  assertEquals(got.record.sum, build.record.sum);
  assertEquals(got.cached, false);
  assertEquals(f.server.requests.slice(before).map((r) => r.route), ["lookup"]);
  assertEquals(
    await Deno.readTextFile(file),
    new TextDecoder().decode(await lookupBody(f, build.key)),
  );
});

async function lookupBody(f: { server: { tlogUrl: string } }, key: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(`${f.server.tlogUrl}/lookup/${key}`)).arrayBuffer());
}

Deno.test("lookup() moves the stored tree forward as the log grows, through tiles of many levels", async () => {
  await using f = await fixture();
  const { tlog } = f.client();
  await tlog.lookup(testsvcSpec("v1.0.0"));
  for (let i = 0; i < 70000; i++) f.server.addRecord(`record ${i}\n`);
  const later = await f.server.addBuild(testsvcSpec("v1.1.0"), new TextEncoder().encode("new\n"));
  const got = await tlog.lookup(testsvcSpec("v1.1.0"));
  assertEquals(got.id, later.id);
  assertEquals(got.tree.size, f.server.size);
  assertEquals((await f.storedNote()).split("\n")[1], String(f.server.size));
  // The old record still verifies against the new tree, from the cached lookup.
  const old = await f.client().tlog.lookup(testsvcSpec("v1.0.0"));
  assertEquals(old.tree.size, f.server.size);
});

Deno.test("lookup() fails on each misbehaviour with the right error and caches nothing", async (t) => {
  const rows: Array<{
    name: string;
    route?: Route;
    fault?: Fault;
    signature?: SignatureMode;
    error: RegExp;
    type?: new (...args: never[]) => Error;
  }> = [
    {
      name: "lookup hangs",
      route: "lookup",
      fault: "hang",
      error: /no complete answer within 300 ms/,
    },
    {
      name: "lookup stalls",
      route: "lookup",
      fault: "stall",
      error: /no complete answer within 300 ms/,
    },
    {
      name: "lookup 500",
      route: "lookup",
      fault: "status500",
      error: /status 500 \(internal error/,
      type: HttpStatusError,
    },
    {
      name: "lookup 404",
      route: "lookup",
      fault: "status404",
      error: /status 404 \(not found\)/,
      type: HttpStatusError,
    },
    {
      name: "lookup endless",
      route: "lookup",
      fault: "endless",
      error: /answer larger than 1048576 bytes/,
    },
    {
      name: "lookup truncated",
      route: "lookup",
      fault: "truncate",
      error: /malformed/,
      type: SyntaxError,
    },
    {
      name: "lookup record changed",
      route: "lookup",
      fault: "corrupt",
      error: /cannot authenticate record data/,
      type: VerificationError,
    },
    {
      name: "tile hangs",
      route: "tile",
      fault: "hang",
      error: /tile\/8\/0\/000\.p\/4": no complete answer within 300 ms/,
    },
    {
      name: "tile 500",
      route: "tile",
      fault: "status500",
      error: /tile\/8\/0\/000\.p\/4": status 500 \(internal error/,
      type: HttpStatusError,
    },
    {
      name: "tile endless",
      route: "tile",
      fault: "endless",
      error: /tile\/8\/0\/000\.p\/4": answer larger than 128 bytes/,
    },
    {
      name: "tile truncated",
      route: "tile",
      fault: "truncate",
      error: /tile\/8\/0\/000\.p\/4: 64 bytes, expected 128/,
      type: VerificationError,
    },
    {
      name: "tile changed",
      route: "tile",
      fault: "corrupt",
      error: /downloaded inconsistent tile/,
      type: VerificationError,
    },
    {
      name: "bad signature",
      signature: "bad",
      error: /invalid signature for key localhost\+7f833345/,
      type: VerificationError,
    },
    {
      name: "foreign signature",
      signature: "foreign",
      error: /no signature by key localhost\+7f833345 \(signed by elsewhere\+/,
      type: VerificationError,
    },
    {
      name: "same name, other key",
      signature: "other-hash",
      error: /no signature by key localhost\+7f833345 \(signed by localhost\+/,
      type: VerificationError,
    },
  ];
  for (const row of rows) {
    await t.step(row.name, async () => {
      await using f = await fixture(2);
      if (row.route && row.fault) f.server.faults[row.route] = row.fault;
      if (row.signature) f.server.signature = row.signature;
      const { tlog, security } = f.client({ timeoutMs: 300 });
      const err = await tlog.lookup(testsvcSpec("v1.0.0")).then(() => undefined, (e) => e);
      assert(err instanceof (row.type ?? Error), `${row.name}: ${err}`);
      assertMatch(err.message, /^Cannot look up example\.com\/testsvc@v1\.0\.0\/cmd\/testsvc /);
      assertMatch(err.message, row.error);
      assertEquals(security.length, 0);
      assert(!await exists(lookupCacheFile(f.dir, f.builds[0]?.key ?? "")), "nothing cached");
      // Once the server behaves, the same client succeeds: failures are not remembered.
      f.server.faults = {};
      f.server.signature = "good";
      assertEquals((await tlog.lookup(testsvcSpec("v1.0.0"))).id, f.builds[0]?.id);
    });
  }
  await t.step("an extra signature by an unknown key is ignored", async () => {
    await using f = await fixture(2);
    f.server.signature = "also-unknown";
    assertEquals((await f.client().tlog.lookup(testsvcSpec("v1.0.0"))).id, f.builds[0]?.id);
  });
  await t.step("a record for another spec", async () => {
    await using f = await fixture(2);
    f.server.answerLookup(testsvcSpec("v1.0.0"), f.builds[1]?.id ?? -1);
    await assertRejects(() => f.client().tlog.lookup(testsvcSpec("v1.0.0")), {
      name: "VerificationError",
      message:
        /cannot use record for example\.com\/testsvc@v1\.0\.1\/cmd\/testsvc .* the log returned it for example\.com\/testsvc@v1\.0\.0\//,
    });
    assert(!await exists(lookupCacheFile(f.dir, f.builds[0]?.key ?? "")));
  });
});

Deno.test("a forked history of the same size is a security error with both notes; the stored tree stays", async () => {
  await using f = await fixture();
  const { tlog, security } = f.client();
  await tlog.lookup(testsvcSpec("v1.0.0"));
  const stored = await f.storedNote();
  f.server.fork(1, "another record\n");
  const err = await tlog.lookup(testsvcSpec("v1.0.1")).then(() => undefined, (e) => e);
  assert(err instanceof SecurityError, String(err));
  assertMatch(err.message, /two different signed trees of size 5 \(misbehaving server\)/);
  assertEquals(security, [err]);
  assertEquals(err.trustedNote, stored);
  assertEquals(err.receivedNote, new TextDecoder().decode(f.server.latestNote()));
  assertMatch(err.report, /^SECURITY ERROR\n/);
  assert(err.report.includes(stored.replaceAll("\n", "\n\t")), "the report holds the stored note");
  assertEquals(await f.storedNote(), stored);
  // A new client (a restart) refuses the same way; the process that reports keeps going.
  const again = f.client();
  await assertRejects(() => again.tlog.lookup(testsvcSpec("v1.0.1")), SecurityError);
  assertEquals(again.security.length, 1);
  // The verified, cached lookup is still served: it agrees with the stored tree.
  assertEquals((await again.tlog.lookup(testsvcSpec("v1.0.0"))).cached, true);
});

Deno.test("a forked history that grew is a security error with a proof", async () => {
  await using f = await fixture();
  const { tlog, security } = f.client();
  await tlog.lookup(testsvcSpec("v1.0.0"));
  const stored = await f.storedNote();
  f.server.fork(0, "rewritten first record\n");
  for (let i = 0; i < 300; i++) f.server.addRecord(`record ${i}\n`);
  await assertRejects(() => tlog.lookup(testsvcSpec("v1.0.1")), {
    name: "SecurityError",
    message:
      /signed tree of size 305 from the lookup response contradicts its signed tree of size 5/,
  });
  assertEquals(security.length, 1);
  // The proof: the hash of the first 5 records in the new tree, then the RFC 6962 proof.
  const lines = security[0]?.report.split("proof of misbehavior:\n\t")[1]?.split("\n\t") ?? [];
  assertEquals(lines[0], btoa(String.fromCharCode(...f.server.treeHash(5))));
  assert(lines.length > 1, "proof hashes follow");
  assertEquals(await f.storedNote(), stored);
});

Deno.test("a shrinking tree: a true prefix is accepted as the past, another history is refused", async (t) => {
  await t.step("shrunk to a prefix: old records still verify, the stored tree stays", async () => {
    await using f = await fixture();
    const { tlog, security } = f.client();
    await tlog.lookup(testsvcSpec("v1.0.1"));
    const stored = await f.storedNote();
    f.server.truncate(4); // drops v1.0.1, keeps v1.0.0 (record 3)
    const got = await f.client().tlog.lookup(testsvcSpec("v1.0.0"));
    assertEquals(got.tree.size, 5);
    assertEquals(await f.storedNote(), stored);
    assertEquals(security.length, 0);
  });
  await t.step("shrunk and grown again with other records: a security error", async () => {
    await using f = await fixture();
    const { tlog, security } = f.client();
    await tlog.lookup(testsvcSpec("v1.0.1"));
    const stored = await f.storedNote();
    f.server.truncate(3);
    await f.server.addBuild(testsvcSpec("v1.0.0"), new TextEncoder().encode("other binary\n"));
    await assertRejects(() => tlog.lookup(testsvcSpec("v1.0.0")), {
      name: "SecurityError",
      message:
        /signed tree of size 4 from the lookup response contradicts its signed tree of size 5/,
    });
    assertEquals(security.length, 1);
    assertEquals(await f.storedNote(), stored);
  });
});

Deno.test("a stored tree that the server contradicts is a security error at the first lookup", async () => {
  await using a = await fixture();
  await a.client().tlog.lookup(testsvcSpec("v1.0.0"));
  const stored = await a.storedNote();
  // Another server with the same key and another history, the cache of the first.
  await using b = await fixture(4);
  const { tlog, security } = b.client({ dir: a.dir });
  await assertRejects(() => tlog.lookup(testsvcSpec("v1.0.1")), SecurityError);
  assertEquals(security.length, 1);
  assertEquals(security[0]?.trustedNote, stored);
  assertEquals(await a.storedNote(), stored);
});

Deno.test("the verifier key is pinned per name in the cache", async () => {
  await using f = await fixture();
  await f.client().tlog.lookup(testsvcSpec("v1.0.0"));
  const pinned = join(f.dir, "gobuildverifiercache", "localhost", "config", "key");
  assertEquals(await Deno.readTextFile(pinned), f.server.verifierKey + "\n");
  const other = verifierKeyOf(signerFromSeed("localhost", new Uint8Array(32).fill(3)));
  await assertRejects(() => f.client({ key: other }).tlog.lookup(testsvcSpec("v1.0.0")), {
    message:
      /cannot use verifier key "localhost\+.*": the cache was made for key "localhost\+7f833345\+/,
  });
});

Deno.test("lookups stay correct after many records: the stored tree never goes back", async () => {
  await using f = await fixture();
  const { tlog } = f.client();
  let last = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 97; i++) f.server.addRecord(`round ${round} record ${i}\n`);
    const spec = testsvcSpec(`v2.0.${round}`);
    const added = await f.server.addBuild(spec, new TextEncoder().encode(`binary ${round}\n`));
    const got = await tlog.lookup(spec);
    assertEquals(got.text, formatRecord(added.record));
    assert(got.tree.size > last);
    last = got.tree.size;
  }
});
