import { EtcdClient } from "../../src/fleet/etcd.ts";
import { targetName } from "../../src/fleet/layout.ts";
import { canaries } from "../../src/fleet/policy.ts";
import { readFleetStatus, resumeFleet } from "../../src/fleet/status.ts";
import type { Release } from "../../src/state/state.ts";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { startEtcdCluster } from "../../world/etcd.ts";
import {
  checkRollout,
  later,
  readHistory,
  replay,
  simGroup,
  type SimHost,
  simHost,
  type SimSettings,
  waitFor,
} from "../../world/fleet_sim.ts";

const V0: Release = { version: "v1.0.0", goVersion: "go1.23.4" };
const V1: Release = { version: "v1.0.1", goVersion: "go1.23.4" };
const V2: Release = { version: "v1.0.2", goVersion: "go1.23.4" };

function settings(endpoints: string[], extra: Partial<SimSettings> = {}): SimSettings {
  return {
    endpoints,
    group: "web",
    maxConcurrent: 2,
    canaries: 1,
    soak: 500,
    leaseTtl: 3000,
    ...extra,
  };
}

function hosts(n: number, s: SimSettings): Promise<SimHost[] & AsyncDisposable> {
  return simGroup(n, V0, s);
}

Deno.test("gate: with max_concurrent 2 and one canary, the canary goes first and the rest follow its soak two at a time", async () => {
  await using cluster = await startEtcdCluster();
  const s = settings(cluster.endpoints);
  await using group = await hosts(8, s);
  const results = await Promise.all(group.map((h) => h.update(V1, { installMs: 400 })));
  assertEquals(results, group.map(() => "installed"));
  await checkRollout(cluster.endpoints, s, group.map((h) => h.id), V1);
});

Deno.test("gate: stopping one etcd member during a rollout changes nothing", async () => {
  await using cluster = await startEtcdCluster();
  const s = settings(cluster.endpoints, { requestTimeout: 2000 });
  await using group = await hosts(6, s);
  const rollout = later(Promise.all(group.map((h) => h.update(V1, { installMs: 300 }))));
  // Stop the member every client talks to first, once the canary holds its slot.
  await waitFor(() => group.some((h) => h.gate.status().holding), () => "the canary's slot");
  await cluster.stop(0);
  assertEquals(await rollout, group.map(() => "installed"));
  await checkRollout(cluster.endpoints.slice(1), s, group.map((h) => h.id), V1);
});

Deno.test("gate: a host that dies holding a slot frees it only when its lease expires", async () => {
  await using cluster = await startEtcdCluster();
  const s = settings(cluster.endpoints, { maxConcurrent: 1, canaries: 0 });
  await using group = await hosts(2, s);
  const [dead, next] = group;
  assert(dead && next);
  await dead.gate.acquire(V1);
  // The process dies: no more keep-alives, nothing revoked.
  await dead.gate.close({ revoke: false });
  const waiting = later(next.update(V1));
  await waitFor(
    () => next.gate.status().waiting?.reason.startsWith("waiting for a slot") ?? false,
    () => `queued behind the dead host: ${JSON.stringify(next.gate.status())}`,
  );
  assertEquals(await waiting, "installed");

  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  const events = await readHistory(client, s.group);
  const expired = events.find((e) => e.type === "delete" && e.key.endsWith(`/queue/${dead.id}`));
  const start = replay(events, s.group).starts.find((x) => x.id === next.id);
  assert(expired && start, "the dead host's queue key expired and the next host started");
  // The lease took the dead host's state with it in the same revision.
  assert(events.some((e) =>
    e.type === "delete" && e.key.endsWith(`/hosts/${dead.id}`) &&
    e.revision === expired.revision
  ));
  assert(start.revision > expired.revision, "the slot was not taken before the lease expired");
});

Deno.test("gate: a rollback halts the version for the group until an operator resumes it", async () => {
  await using cluster = await startEtcdCluster();
  const s = settings(cluster.endpoints);
  await using group = await hosts(5, s);
  const ids = group.map((h) => h.id);
  const [canaryId] = canaries(ids, 1);
  const canary = group.find((h) => h.id === canaryId);
  assert(canary);
  const others = group.filter((h) => h !== canary);
  const rest = later(Promise.all(others.map((h) => h.update(V1))));
  assertEquals(await canary.update(V1, { fail: true }), "rolled back");
  await waitFor(
    () => others.every((h) => h.gate.status().waiting?.reason.startsWith("halted:") ?? false),
    () => `every host halted: ${others.map((h) => h.gate.status().waiting?.reason).join(" | ")}`,
  );
  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  const status = await readFleetStatus(client, {
    group: s.group,
    maxConcurrent: s.maxConcurrent,
    canaries: s.canaries,
    soak: s.soak,
  });
  assertEquals(status.targets.map((t) => [t.version, t.halt?.by, t.halt?.reason]), [
    ["v1.0.1", canaryId, "v1.0.1 failed its health check"],
  ]);
  assertEquals(
    status.hosts.find((h) => h.id === canaryId)?.lastError,
    "v1.0.1 failed its health check",
  );
  assert(others.every((h) => h.installed.length === 0));

  assertEquals((await resumeFleet(client, s.group, "v1.0.1")).map((h) => h.by), [canaryId]);
  // The canary tries again, now successfully; the others follow after its soak.
  assertEquals(await canary.update(V1), "installed");
  assertEquals(await rest, others.map(() => "installed"));

  const events = await readHistory(client, s.group);
  const h = replay(events, s.group);
  const resumed = events.find((e) => e.type === "delete" && e.key.endsWith("/halt"));
  assert(resumed);
  for (const x of h.starts.filter((x) => x.id !== canaryId)) {
    assert(x.revision > resumed.revision, `${x.id} installed while halted`);
  }
});

Deno.test("gate: a newer version is not blocked by the halt of an older one", async () => {
  await using cluster = await startEtcdCluster();
  const s = settings(cluster.endpoints, { soak: 200 });
  await using group = await hosts(4, s);
  const [canaryId] = canaries(group.map((h) => h.id), 1);
  const canary = group.find((h) => h.id === canaryId);
  assert(canary);
  assertEquals(await canary.update(V1, { fail: true }), "rolled back");
  assertEquals(
    await Promise.all(group.map((h) => h.update(V2))),
    group.map(() => "installed"),
  );
  assert(group.every((h) => h.running.version === "v1.0.2"));
  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  const status = await readFleetStatus(client, {
    group: s.group,
    maxConcurrent: 2,
    canaries: 1,
    soak: 0,
  });
  // The old halt stays (visible, resumable) and keeps v1.0.1 out.
  assertEquals(status.targets.filter((t) => t.halt).map((t) => t.version), ["v1.0.1"]);
});

Deno.test("gate: without an etcd quorum every host waits and nothing is installed", async () => {
  await using cluster = await startEtcdCluster();
  const s = settings(cluster.endpoints, { requestTimeout: 2000, canaries: 0 });
  await using group = await hosts(4, s);
  await cluster.stop(1);
  await cluster.stop(2);
  const rollout = later(Promise.all(group.map((h) => h.update(V1))));
  await waitFor(
    () => group.every((h) => !h.gate.status().connected && h.gate.status().waiting !== undefined),
    () =>
      `every host waiting on etcd: ${group.map((h) => JSON.stringify(h.gate.status())).join("\n")}`,
  );
  for (const h of group) {
    assertEquals(h.installed, []);
    assertEquals(h.gate.status().holding, undefined);
    assert(
      /etcd/.test(h.gate.status().waiting?.reason ?? ""),
      h.gate.status().waiting?.reason ?? "not waiting",
    );
  }
  // With the quorum back, the rollout goes on.
  await cluster.start(1);
  assertEquals(await rollout, group.map(() => "installed"));
  assert(group.every((h) => h.gate.status().connected));
});

Deno.test("gate: a canary writes its soak mark only after it released its slot", async () => {
  await using cluster = await startEtcdCluster({ size: 1 });
  const s = settings(cluster.endpoints, { soak: 100 });
  await using group = await hosts(2, s);
  const [canaryId] = canaries(group.map((h) => h.id), 1);
  const canary = group.find((h) => h.id === canaryId);
  assert(canary);
  const slot = await canary.gate.acquire(V1);
  // The new version is up and healthy, but the update cycle still soaks it.
  canary.gate.report({ ...V1, healthy: true });
  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  const marks = `/ysco/fleet/web/targets/${targetName(V1)}/soaked/`;
  // Far past the soak time, still no mark while the slot is held.
  await new Promise((r) => setTimeout(r, 1000));
  assertEquals((await client.range(marks, { prefix: true, countOnly: true })).count, 0);
  await slot.release();
  await waitFor(
    async () => (await client.range(marks, { prefix: true, countOnly: true })).count === 1,
    () => "the soak mark after the release",
  );
  const events = await readHistory(client, s.group);
  const released = events.find((e) => e.type === "delete" && e.key.endsWith(`/queue/${canaryId}`));
  const mark = events.find((e) => e.key.startsWith(marks));
  assert(released && mark && mark.revision > released.revision, "mark after the release");
});

Deno.test("gate: hosts waiting in a watch when the quorum goes stay disconnected until it is back", async () => {
  await using cluster = await startEtcdCluster();
  const s = settings(cluster.endpoints, {
    requestTimeout: 2000,
    canaries: 0,
    maxConcurrent: 1,
    // The waiting hosts' watches outlast the first failed keep-alives (every second).
    recheck: 8000,
  });
  await using group = await hosts(4, s);
  const [holder, ...waiting] = group;
  assert(holder);
  const slot = await holder.gate.acquire(V1);
  const rest = later(Promise.all(waiting.map((h) => h.update(V1))));
  await waitFor(
    () => waiting.every((h) => h.gate.status().waiting?.reason.startsWith("waiting for a slot")),
    () => `queued: ${waiting.map((h) => h.gate.status().waiting?.reason)}`,
  );
  assert(group.every((h) => h.gate.status().connected));

  // Sample every host's connected state through the outage: once false, it must
  // stay false until the quorum is back, though the watches of the waiting hosts
  // still end quietly on the member that is left.
  const samples = new Map(group.map((h) => [h.id, [] as boolean[]]));
  const sampler = setInterval(() => {
    for (const h of group) samples.get(h.id)?.push(h.gate.status().connected);
  }, 10);
  try {
    await cluster.stop(1);
    await cluster.stop(2);
    // Each waiting host's watch ended (recheck) and its next round failed.
    await waitFor(
      () => waiting.every((h) => /^etcd: /.test(h.gate.status().waiting?.reason ?? "")),
      () => `waiting on etcd: ${waiting.map((h) => h.gate.status().waiting?.reason)}`,
    );
    await waitFor(
      () => waiting.every((h) => h.gate.status().counters.errors >= 6),
      () => `more failed rounds: ${waiting.map((h) => h.gate.status().counters.errors)}`,
    );
  } finally {
    clearInterval(sampler);
  }
  for (const [id, seen] of samples) {
    const down = seen.indexOf(false);
    assert(down >= 0, `${id} noticed the outage`);
    assert(!seen.slice(down).includes(true), `${id} said connected again without a quorum`);
  }
  await cluster.start(1);
  await waitFor(() => group.every((h) => h.gate.status().connected), () => "connected again");
  await slot.release();
  assertEquals(await rest, waiting.map(() => "installed"));
});

Deno.test("gate: with max_concurrent 3, the failed canary's paused state and the halt are one revision; nobody else installs", async () => {
  await using cluster = await startEtcdCluster({ size: 1 });
  const s = settings(cluster.endpoints, { maxConcurrent: 3, recheck: 500 });
  await using group = await hosts(5, s);
  const [canaryId] = canaries(group.map((h) => h.id), 1);
  const canary = group.find((h) => h.id === canaryId);
  assert(canary);
  const others = group.filter((h) => h !== canary);
  const rest = later(Promise.all(others.map((h) => h.update(V1))));
  // The rollback takes a while (the old version starting again), as in ysco.
  assertEquals(await canary.update(V1, { fail: true, installMs: 1500 }), "rolled back");
  await waitFor(
    () => others.every((h) => h.gate.status().waiting?.reason.startsWith("halted:") ?? false),
    () => `every host halted: ${others.map((h) => h.gate.status().waiting?.reason).join(" | ")}`,
  );
  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  const events = await readHistory(client, s.group);
  const halt = events.find((e) => e.type === "put" && e.key.endsWith("/halt"));
  const paused = events.find((e) =>
    e.type === "put" && e.key.endsWith(`/hosts/${canaryId}`) && JSON.parse(e.value).paused
  );
  assert(halt && paused, "a halt and a paused state");
  assertEquals(paused.revision, halt.revision, "paused and halted in one transaction");
  assertEquals(
    replay(events, s.group).starts.map((x) => x.id),
    [canaryId],
    "only the canary installed",
  );
  await Promise.all(others.map((h) => h.gate.close()));
  await assertRejects(() => rest, Error, "gate closed");
});

Deno.test("gate: a canary writes no soak mark for the version the group started on, only once a host needs it", async () => {
  await using cluster = await startEtcdCluster({ size: 1 });
  const s = settings(cluster.endpoints, { soak: 100, recheck: 500 });
  await using group = await hosts(3, s);
  // Far past the soak time: a mark now would be one for a version nobody rolls out.
  const t0 = Date.now();
  await waitFor(() => Date.now() > t0 + 1000, () => "ten soak times");
  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  // A host joins still running an older version: now V0 is rolled out to it.
  const joined = await client.put("/test/joined", "");
  // One that is no canary (a canary on the old version would install V0 itself).
  const ids = group.map((h) => h.id);
  const oldId = Array.from({ length: 20 }, (_, i) => `old-${i}`)
    .find((id) => canaries([...ids, id], 1)[0] !== id);
  assert(oldId);
  await using old = simHost(oldId, { version: "v0.9.0", goVersion: "go1.23.4" }, s);
  const marks = `/ysco/fleet/web/targets/${targetName(V0)}/soaked/`;
  await waitFor(
    async () => (await client.range(marks, { prefix: true, countOnly: true })).count === 1,
    () => "the canary's soak mark once a host runs an older version",
  );
  const events = await readHistory(client, s.group);
  const mark = events.filter((e) => e.key.startsWith(marks));
  const [canaryId] = canaries([...ids, old.id], 1);
  assertEquals(mark.map((e) => e.key.slice(marks.length)), [canaryId]);
  assert((mark[0]?.revision ?? 0) > joined, "no mark before a host needed it");
});
