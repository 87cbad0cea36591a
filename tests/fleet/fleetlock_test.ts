import { FleetLockClient, FleetLockError, openFleetLockGate } from "../../src/fleet/fleetlock.ts";
import type { Release } from "../../src/state/state.ts";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { freePorts } from "../../world/etcd.ts";
import { startFleetLockServer } from "../_fleetlock_server.ts";
import { waitFor } from "../../world/fleet_sim.ts";

const V1: Release = { version: "v1.0.1", goVersion: "go1.23.4" };

Deno.test("FleetLock gate: hosts take at most max slots at the server, with the protocol's header and body", async () => {
  await using server = startFleetLockServer(2);
  const gates = Array.from(
    { length: 5 },
    (_, i) =>
      openFleetLockGate({ url: server.url, group: "workers", id: `node-${i}`, recheck: 50 }),
  );
  try {
    await Promise.all(gates.map(async (gate) => {
      const slot = await gate.acquire(V1);
      assertEquals(gate.status().holding?.version, "v1.0.1");
      await new Promise((r) => setTimeout(r, 100)); // the pretend install
      await slot.release();
      assertEquals(gate.status().holding, undefined);
    }));
  } finally {
    await Promise.all(gates.map((g) => g.close()));
  }
  assertEquals(server.badRequests, 0);
  const granted = server.log.filter((o) => o.op === "lock" && o.status === 200);
  assertEquals(granted.map((o) => o.id).sort(), gates.map((g) => g.id).sort());
  assert(server.log.every((o) => o.group === "workers" && o.holders.length <= 2));
  assert(server.log.some((o) => o.status === 409), "some hosts had to wait");
  assertEquals(server.holders.get("workers")?.size, 0);
  assert(gates.every((g) => g.status().counters.slots === 1));
});

Deno.test("FleetLock gate releases a slot held before a restart once the service reports healthy", async () => {
  await using server = startFleetLockServer(1);
  // The previous process took the slot and died during the update.
  await new FleetLockClient(server.url, { id: "node-1", group: "default" }).lock();
  assertEquals([...server.holders.get("default") ?? []], ["node-1"]);
  await using gate = openFleetLockGate({ url: server.url, group: "default", id: "node-1" });
  gate.report({ version: "v1.0.0", goVersion: "go1.23.4", healthy: false });
  assertEquals(server.log.length, 1, "no steady-state while unhealthy");
  gate.report({ version: "v1.0.0", goVersion: "go1.23.4", healthy: true });
  await waitFor(() => server.holders.get("default")?.size === 0, () => "slot released");
  assertEquals(server.log.map((o) => [o.op, o.id]), [["lock", "node-1"], ["unlock", "node-1"]]);
});

Deno.test("FleetLock gate waits while the server is unreachable and says so", async () => {
  const [port] = freePorts(1);
  await using gate = openFleetLockGate({
    url: `http://127.0.0.1:${port}/`,
    group: "default",
    id: "node-1",
    retry: 20,
  });
  const stop = new AbortController();
  const waiting = gate.acquire(V1, { signal: stop.signal });
  await waitFor(() => !gate.status().connected, () => JSON.stringify(gate.status()));
  const s = gate.status();
  assertEquals(s.waiting?.version, "v1.0.1");
  assert(/FleetLock: /.test(s.waiting?.reason ?? ""), s.waiting?.reason);
  assert(s.counters.errors > 0);
  stop.abort(new Error("newer version found"));
  await assertRejects(() => waiting, /newer version found/);
  assertEquals(gate.status().waiting, undefined);
});

Deno.test("FleetLockClient reports the server's error kind and text", async () => {
  await using server = startFleetLockServer(1);
  await new FleetLockClient(server.url, { id: "a", group: "g" }).lock();
  const err = await new FleetLockClient(server.url, { id: "b", group: "g" }).lock().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert(err instanceof FleetLockError);
  assertEquals([err.status, err.kind], [409, "failed_lock_semaphore_full"]);
  assertEquals(
    err.message,
    `Cannot lock FleetLock slot at "${server.url}/v1/pre-reboot": status 409 failed_lock_semaphore_full: semaphore currently full, all slots are locked already`,
  );
  // Recursive: the holder locks again without a second slot; unlock frees it for b.
  await new FleetLockClient(server.url, { id: "a", group: "g" }).lock();
  await new FleetLockClient(server.url, { id: "a", group: "g" }).unlock();
  await new FleetLockClient(server.url, { id: "b", group: "g" }).lock();
});
