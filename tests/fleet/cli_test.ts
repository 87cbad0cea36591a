import { join } from "node:path";
import { EtcdClient } from "../../src/fleet/etcd.ts";
import { canaries } from "../../src/fleet/policy.ts";
import type { Release } from "../../src/state/state.ts";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { startEtcdCluster } from "../../world/etcd.ts";
import { freePort } from "../../world/process.ts";
import { tempDir, ysco } from "../../world/util.ts";
import { simHost, waitFor } from "../../world/fleet_sim.ts";

const V0: Release = { version: "v1.0.0", goVersion: "go1.23.4" };
const V1: Release = { version: "v1.0.1", goVersion: "go1.23.4" };
const V2: Release = { version: "v1.0.2", goVersion: "go1.23.4" };

Deno.test("ysco fleet status shows hosts, canaries, slot holders and halts; resume lifts a halt", async () => {
  await using cluster = await startEtcdCluster({ size: 1 });
  await using dir = await tempDir();
  await Deno.mkdir(join(dir.path, "ys"));
  await Deno.writeTextFile(
    join(dir.path, "ys/ysco.toml"),
    `auth_file = "ys/password.txt"\n\n[fleet]\netcd = ${
      JSON.stringify(cluster.endpoints)
    }\ngroup = "web"\nmax_concurrent = 2\nsoak = "10m"\n`,
  );
  const s = {
    endpoints: cluster.endpoints,
    group: "web",
    maxConcurrent: 2,
    canaries: 1,
    soak: 600_000,
    leaseTtl: 5000,
  };
  const hosts = ["web-1", "web-2", "web-3"].map((id) => simHost(id, V0, s));
  try {
    await using client = new EtcdClient({ endpoints: cluster.endpoints });
    await waitFor(
      async () => (await client.range("/ysco/fleet/web/hosts/", { prefix: true })).count === 3,
      () => "hosts registered",
    );
    const [canaryId] = canaries(hosts.map((h) => h.id), 1);
    const canary = hosts.find((h) => h.id === canaryId);
    assert(canary);
    assertEquals(await canary.update(V1, { fail: true }), "rolled back");
    // Paused after its rollback, the old canary is passed over; its operator installs by hand.
    const [next] = canaries(hosts.filter((h) => h !== canary).map((h) => h.id), 1);
    const slot = await canary.gate.acquire(V2);

    const json = await ysco(["fleet", "status", "-dir", "ys", "--json"], { cwd: dir.path });
    assertEquals(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout);
    assertEquals(status.group, "web");
    assertEquals(status.canaries, [next]);
    assertEquals(
      status.hosts.map((
        h: { id: string; version: string; canary: boolean; holdsSlot: boolean },
      ) => [
        h.id,
        h.version,
        h.canary,
        h.holdsSlot,
      ]),
      hosts.map((h) => [h.id, "v1.0.0", h.id === next, h === canary]),
    );
    assertEquals(status.queue.map((q: { id: string; version: string }) => [q.id, q.version]), [
      [canaryId, "v1.0.2"],
    ]);
    assertEquals(status.targets[0].halt.reason, "v1.0.1 failed its health check");

    const text = await ysco(["fleet", "status", "-dir", "ys"], { cwd: dir.path });
    assertEquals(text.code, 0, text.stderr);
    assertMatch(
      text.stdout,
      /^group web: 3 hosts, 1 of 2 slots taken, canaries \S+ \(soak 10m0s\)\n/,
    );
    assertMatch(
      text.stdout,
      new RegExp(
        `\\n${canaryId} +v1\\.0\\.0 +go1\\.23\\.4 +yes +paused +updating to v1\\.0\\.2 go1\\.23\\.4 since `,
      ),
    );
    assertMatch(
      text.stdout,
      new RegExp(
        `\\nHALTED v1\\.0\\.1 go1\\.23\\.4: rolled back on ${canaryId} at \\S+: v1\\.0\\.1 failed its health check\\n  resume with: ysco fleet resume v1\\.0\\.1\\n`,
      ),
    );

    const resumed = await ysco(["fleet", "resume", "-dir", "ys", "v1.0.1"], { cwd: dir.path });
    assertEquals(resumed.code, 0, resumed.stderr);
    assertEquals(
      resumed.stdout,
      `resumed v1.0.1 go1.23.4 in group web (halted by ${canaryId}: v1.0.1 failed its health check)\n`,
    );
    const again = await ysco(["fleet", "resume", "-dir", "ys"], { cwd: dir.path });
    assertEquals([again.code, again.stderr], [1, "ysco fleet resume: no halt in group web\n"]);
    await slot.release();
  } finally {
    await Promise.all(hosts.map((h) => h.gate.close()));
  }
});

Deno.test("ysco fleet says when the configuration has no etcd", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "ysco.toml"), `auth_file = "p"\n`);
  const out = await ysco(["fleet", "status", "-dir", dir.path]);
  assertEquals(out.code, 1);
  assertEquals(
    out.stderr,
    `ysco fleet: ${dir.path}/ysco.toml has no fleet.etcd endpoints; fleet coordination is off\n`,
  );
  await Deno.writeTextFile(
    join(dir.path, "ysco.toml"),
    `auth_file = "p"\n[fleet]\nmax_concurrent = 0\ncanaries = "one"\n`,
  );
  const bad = await ysco(["fleet", "status", "-dir", dir.path]);
  assertEquals(bad.code, 1);
  assertMatch(bad.stderr, /ysco\.toml:3: fleet\.max_concurrent: must be from 1 to 10000, not 0\n/);
  assertMatch(
    bad.stderr,
    /ysco\.toml:4: fleet\.canaries: must be an integer, not the string "one"/,
  );
});

Deno.test("ysco fleet status without an etcd quorum reads from the member that is left and says so", async () => {
  await using cluster = await startEtcdCluster();
  await using dir = await tempDir();
  const alerts = `http://127.0.0.1:${freePort()}`;
  await Deno.writeTextFile(
    join(dir.path, "ysco.toml"),
    `auth_file = "p"\n[fleet]\netcd = ${
      JSON.stringify(cluster.endpoints)
    }\ngroup = "web"\nalerts_url = "${alerts}"\nalerts_match = 'severity="critical"'\n`,
  );
  const s = {
    endpoints: cluster.endpoints,
    group: "web",
    maxConcurrent: 1,
    canaries: 1,
    soak: 600_000,
    leaseTtl: 60_000,
  };
  await using host = simHost("web-1", V0, s);
  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  await waitFor(
    async () => (await client.range("/ysco/fleet/web/hosts/", { prefix: true })).count === 1,
    () => "host registered",
  );
  const fresh = await ysco(["fleet", "status", "-dir", dir.path]);
  assertEquals(fresh.code, 0, fresh.stderr);
  assertMatch(fresh.stdout, /^group web: 1 host, /);
  assertMatch(
    fresh.stdout,
    new RegExp(
      `\\nalerts at ${alerts} matching \\{severity="critical"\\}: cannot query \\(Cannot query alerts at ${alerts}: [^\\n]+\\): no host takes a slot until it answers\\n$`,
    ),
  );

  await cluster.stop(1);
  await cluster.stop(2);
  const [left] = cluster.endpoints;
  const out = await ysco(["fleet", "status", "-dir", dir.path]);
  assertEquals(out.code, 0, out.stderr);
  assertMatch(
    out.stdout,
    new RegExp(
      `^no quorum: read from member ${left}, may be stale \\((no member knows a leader|Cannot run etcd transaction: ${left}: no answer within 3000 ms; [^\\n]*)\\)\\n`,
    ),
  );
  assertMatch(
    out.stdout,
    new RegExp(
      `\\n  ${left} \\(member \\d+\\): (no leader \\(etcdserver: no leader\\)|follows leader \\d+)\\n`,
    ),
  );
  for (const gone of cluster.endpoints.slice(1)) {
    assertMatch(out.stdout, new RegExp(`\\n  ${gone}: no answer \\(`));
  }
  assertMatch(out.stdout, /\ngroup web: 1 host, /);
  assertMatch(out.stdout, /\nweb-1 +v1\.0\.0 +go1\.23\.4 +yes +canary/);
  const json = await ysco(["fleet", "status", "-json", "-dir", dir.path]);
  assertEquals(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout);
  assertEquals([parsed.etcd.quorum, parsed.etcd.member], [false, left]);
  assertEquals(parsed.hosts.map((h: { id: string }) => h.id), [host.id]);
  assertEquals([parsed.alerts.state, parsed.alerts.match], ["unknown", '{severity="critical"}']);
});
