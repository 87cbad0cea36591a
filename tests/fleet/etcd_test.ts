import {
  EtcdClient,
  EtcdError,
  EtcdUnavailableError,
  prefixEnd,
  type WatchBatch,
} from "../../src/fleet/etcd.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { freePorts, makeTlsFiles, startEtcdCluster } from "../../world/etcd.ts";
import { tempDir } from "../../world/util.ts";

Deno.test("EtcdClient reads, writes, runs transactions and leases on a real cluster", async () => {
  await using cluster = await startEtcdCluster();
  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  const r1 = await client.put("/t/a", "1");
  await client.put("/t/b", "h\u00e9llo");
  await client.put("/u", "other");
  const all = await client.range("/t/", { prefix: true });
  assertEquals(all.kvs.map((kv) => [kv.key, kv.value]), [["/t/a", "1"], ["/t/b", "h\u00e9llo"]]);
  assertEquals(all.kvs[0]?.createRevision, r1);
  assertEquals((await client.range("/t/", { prefix: true, countOnly: true })).count, 2);
  assertEquals((await client.range("/missing")).kvs, []);

  // A compare that fails runs the failure branch; reads in a transaction see its writes.
  const failed = await client.txn({
    compare: [{ key: "/t/a", target: "create", op: "=", value: 0 }],
    success: [{ put: { key: "/t/a", value: "2" } }],
    failure: [{ range: { key: "/t/a" } }],
  });
  assertEquals(failed.succeeded, false);
  assertEquals(failed.results[0]?.kind === "range" && failed.results[0].kvs[0]?.value, "1");
  const ok = await client.txn({
    compare: [{ key: "/t/a", target: "value", op: "=", value: "1" }],
    success: [{ put: { key: "/t/c", value: "3" } }, { range: { key: "/t/", prefix: true } }],
  });
  assertEquals(ok.succeeded, true);
  assertEquals(ok.results[1]?.kind === "range" && ok.results[1].count, 3);

  // Keys on a lease go with it.
  const lease = await client.leaseGrant(10);
  assert(/^[1-9][0-9]*$/.test(lease.id) && lease.ttl >= 10, JSON.stringify(lease));
  await client.put("/l/k", "v", { lease: lease.id });
  assertEquals((await client.range("/l/k")).kvs[0]?.lease, lease.id);
  assert((await client.leaseKeepAlive(lease.id)) > 0);
  await client.leaseRevoke(lease.id);
  assertEquals((await client.range("/l/k")).count, 0);
  assertEquals(await client.leaseKeepAlive(lease.id), 0, "a revoked lease renews to 0");
  await client.leaseRevoke(lease.id); // already gone: fine

  assertEquals(await client.delete("/t/", { prefix: true }), 3);
  await assertRejects(
    () => client.put("/x", "y", { lease: "12345" }),
    (err: unknown) => err instanceof EtcdError && /lease not found/.test(err.message),
  );
});

Deno.test("EtcdClient.watch() reports changes from a revision, several watches on one stream", async () => {
  await using cluster = await startEtcdCluster({ size: 1 });
  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  const start = await client.put("/w/a/1", "x");
  await client.put("/w/b/1", "y");
  await client.delete("/w/b/1");
  await client.put("/w/a/2", "z");
  const stop = new AbortController();
  const seen: WatchBatch[] = [];
  for await (
    const batch of client.watch([
      { key: "/w/a/", prefix: true, startRevision: start },
      { key: "/w/b/", prefix: true, startRevision: start, filters: ["noput"] },
    ], stop.signal)
  ) {
    seen.push(batch);
    if (seen.flatMap((b) => b.events).length >= 3) stop.abort();
  }
  const events = seen.flatMap((b) => b.events.map((e) => [b.watch, e.type, e.kv.key]));
  assertEquals(
    events.sort((a, b) => String(a).localeCompare(String(b))),
    [[0, "put", "/w/a/1"], [0, "put", "/w/a/2"], [1, "delete", "/w/b/1"]],
  );
});

Deno.test("EtcdClient fails over when a member stops and fails closed without a quorum", async () => {
  await using cluster = await startEtcdCluster();
  await using client = new EtcdClient({ endpoints: cluster.endpoints, requestTimeout: 1500 });
  await client.put("/f", "1");
  assertEquals(client.endpoint, cluster.endpoints[0]);
  await cluster.stop(0);
  await client.put("/f", "2");
  assertEquals((await client.range("/f")).kvs[0]?.value, "2");
  assert(client.endpoint !== cluster.endpoints[0], "moved to a live member");

  await cluster.stop(1);
  const err = await client.range("/f").then(() => undefined, (e: unknown) => e);
  assert(err instanceof EtcdUnavailableError, String(err));
  for (const e of cluster.endpoints) assert(err.message.includes(e), err.message);
  assertMatch(err.message, /^Cannot read from etcd: /);
});

Deno.test("EtcdClient authenticates with a password over TLS with a client certificate", async () => {
  await using dir = await tempDir();
  const tls = await makeTlsFiles(dir.path);
  await using cluster = await startEtcdCluster({ size: 1, tls });
  const endpoint = cluster.endpoints[0] ?? "";
  const ctl = async (...args: string[]) => {
    const out = await new Deno.Command("etcdctl", {
      args: [
        "--endpoints",
        endpoint,
        "--cacert",
        tls.caFile,
        "--cert",
        tls.clientCertFile,
        "--key",
        tls.clientKeyFile,
        ...args,
      ],
      env: { ETCDCTL_API: "3" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
  };
  await ctl("user", "add", "root:rootpw");
  await ctl("user", "grant-role", "root", "root");
  await ctl("user", "add", "ysco:s3cret");
  await ctl("role", "add", "fleet");
  await ctl("role", "grant-permission", "fleet", "--prefix=true", "readwrite", "/ysco/");
  await ctl("user", "grant-role", "ysco", "fleet");
  await ctl("auth", "enable");

  const pem = {
    caCert: await Deno.readTextFile(tls.caFile),
    cert: await Deno.readTextFile(tls.clientCertFile),
    key: await Deno.readTextFile(tls.clientKeyFile),
  };
  // HOST:PORT becomes https when TLS material is given.
  const hostPort = endpoint.replace("https://", "");
  {
    await using client = new EtcdClient({
      endpoints: [hostPort],
      username: "ysco",
      password: "s3cret",
      tls: pem,
    });
    await client.put("/ysco/fleet/x", "1");
    assertEquals((await client.range("/ysco/fleet/x")).kvs[0]?.value, "1");
    const lease = await client.leaseGrant(5);
    await client.put("/ysco/fleet/y", "2", { lease: lease.id });
    await assertRejects(() => client.put("/other", "1"), /permission denied/);
    // A restarted member forgets its tokens: the client authenticates again.
    await cluster.stop(0);
    await cluster.start(0);
    assertEquals((await client.range("/ysco/fleet/x")).kvs[0]?.value, "1");
  }
  {
    await using client = new EtcdClient({
      endpoints: [endpoint],
      username: "ysco",
      password: "wrong",
      tls: pem,
    });
    await assertRejects(
      () => client.range("/ysco/"),
      (err: unknown) => err instanceof EtcdError && /authentication failed/.test(err.message),
    );
  }
  {
    // The member requires a client certificate.
    await using client = new EtcdClient({
      endpoints: [endpoint],
      username: "ysco",
      password: "s3cret",
      tls: { caCert: pem.caCert },
      requestTimeout: 2000,
    });
    await assertRejects(() => client.range("/ysco/"), EtcdUnavailableError);
  }
  {
    // Without the CA the server's certificate is not trusted.
    await using client = new EtcdClient({
      endpoints: [endpoint],
      tls: { cert: pem.cert, key: pem.key },
      requestTimeout: 2000,
    });
    await assertRejects(() => client.range("/ysco/"), EtcdUnavailableError);
  }
});

Deno.test("EtcdClient names every endpoint when none is reachable", async () => {
  const ports = freePorts(2);
  await using client = new EtcdClient({
    endpoints: ports.map((p) => `127.0.0.1:${p}`),
    requestTimeout: 1000,
  });
  const err = await client.leaseGrant(5).then(() => undefined, (e: unknown) => e);
  assert(err instanceof EtcdUnavailableError);
  assertMatch(
    err.message,
    new RegExp(
      `^Cannot grant etcd lease: http://127\\.0\\.0\\.1:${ports[0]}: .+; http://127\\.0\\.0\\.1:${
        ports[1]
      }: `,
    ),
  );
});

Deno.test("prefixEnd() is the first key after every key with the prefix", () => {
  assertEquals(prefixEnd("/a/"), "/a0");
  assertEquals(prefixEnd("abc"), "abd");
});
