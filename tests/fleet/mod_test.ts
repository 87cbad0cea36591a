import { join } from "node:path";
import { parseConfig } from "../../src/config/parse.ts";
import { EtcdClient } from "../../src/fleet/etcd.ts";
import { fleetBackend, openFleetGate } from "../../src/fleet/mod.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../_assert.ts";
import { startEtcdCluster } from "../../world/etcd.ts";
import { tempDir } from "../../world/util.ts";
import { waitFor } from "../../world/fleet_sim.ts";

function fleet(toml: string) {
  return parseConfig(`auth_file = "p"\n[fleet]\n${toml}`).fleet;
}

Deno.test("fleetBackend() picks etcd or FleetLock from [fleet], and refuses both", () => {
  const rows: Array<[string, string | undefined]> = [
    // [fleet table, backend]
    ["", undefined],
    ['etcd = ["127.0.0.1:2379"]', "etcd"],
    ['fleetlock_url = "https://fleetlock.example/"', "fleetlock"],
  ];
  for (const [toml, want] of rows) assertEquals(fleetBackend(fleet(toml)), want, toml);
  // The configuration refuses both (see tests/config); the gate refuses them too.
  assertThrows(
    () => fleetBackend({ ...fleet('etcd = ["127.0.0.1:2379"]'), fleetlock_url: "http://x/" }),
    /both fleet\.etcd and fleet\.fleetlock_url are set/,
  );
});

Deno.test("openFleetGate() registers the host in etcd with the configured id and password file", async () => {
  await using cluster = await startEtcdCluster({ size: 1 });
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "pw"), "s3cret\n");
  const ctl = async (...args: string[]) => {
    const out = await new Deno.Command("etcdctl", {
      args: ["--endpoints", cluster.endpoints[0] ?? "", ...args],
      env: { ETCDCTL_API: "3" },
      stdout: "null",
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

  const config = fleet(
    `etcd = ${JSON.stringify(cluster.endpoints)}\ngroup = "api"\nid = "api-7"\n` +
      `username = "ysco"\npassword_file = "pw"\nlease_ttl = "3s"\n`,
  );
  const gate = await openFleetGate(config, { cwd: dir.path });
  assert(gate);
  await using _ = gate;
  gate.report({ version: "v1.0.0", goVersion: "go1.23.4", healthy: true });
  await using client = new EtcdClient({
    endpoints: cluster.endpoints,
    username: "ysco",
    password: "s3cret",
  });
  await waitFor(
    async () =>
      (await client.range("/ysco/fleet/api/hosts/api-7")).kvs[0]?.value.includes("v1.0.0") ?? false,
    () => "host state published",
  );
  assertEquals(gate.status().backend, "etcd");

  await assertRejects(
    () => openFleetGate({ ...config, password_file: "missing" }, { cwd: dir.path }),
    /^Error: Cannot read fleet\.password_file "missing": /,
  );
  await assertRejects(
    () => openFleetGate({ ...config, password_file: "" }, { cwd: dir.path }),
    /fleet\.username is set but fleet\.password_file is not/,
  );
  assertEquals(await openFleetGate(fleet(""), { cwd: dir.path }), undefined);
});
