/**
 * End-to-end tests of fleet coordination: real `ysco run` hosts (tests/_fleet_world.ts)
 * supervising the real Go test service, coordinating through a real three-member etcd
 * cluster, each rollout checked against etcd's revision history. One file, so that
 * only one fleet of processes runs at a time.
 */

import { EtcdClient } from "../../src/fleet/etcd.ts";
import { canaries } from "../../src/fleet/policy.ts";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { type FleetHost, type FleetWorld, GO, startFleetWorld } from "../_fleet_world.ts";
import { poll } from "../../world/process.ts";
import { promtoolCheckMetrics } from "../_promtool.ts";
import { checkRollout, readHistory, replay } from "../../world/fleet_sim.ts";

const V1 = { version: "v1.0.1", goVersion: GO };

/** The outcomes of a host's updates, once none is in progress. */
async function outcomes(h: FleetHost): Promise<string[]> {
  await h.idle();
  return ((await h.state()).history as Array<{ outcome: string }>).map((x) => x.outcome);
}

/** Waits until every host waits for a fleet slot for version, with the reason matching pattern. */
async function allWaiting(hosts: FleetHost[], version: string, pattern: RegExp): Promise<void> {
  await poll(`every host waiting for ${version}: ${pattern}`, async () => {
    for (const h of hosts) {
      const s = await h.status();
      if (s.Busy?.phase !== "waiting for a fleet slot" || s.Busy.version !== version) {
        return undefined;
      }
      if (!pattern.test(s.Fleet?.waiting?.reason ?? "")) return undefined;
    }
    return true;
  }, 120_000);
}

/** The halts `ysco fleet status -json` shows: [version, by, reason]. */
async function halts(world: FleetWorld): Promise<string[][]> {
  const out = await world.fleet(["status", "-json"]);
  assertEquals(out.code, 0, out.stderr);
  return JSON.parse(out.stdout).targets
    .filter((t: { halt?: unknown }) => t.halt)
    .map((t: { version: string; halt: { by: string; reason: string } }) => [
      t.version,
      t.halt.by,
      t.halt.reason,
    ]);
}

Deno.test("ysco run in a fleet: the canary installs first, the others follow its soak mark two at a time", async () => {
  await using world = await startFleetWorld({
    hosts: 5,
    config: '[fleet]\nmax_concurrent = 2\ncanaries = 1\nsoak = "2s"\nlease_ttl = "4s"\n',
  });
  await world.startAll();
  const ids = world.hosts.map((h) => h.id);
  const [canary] = canaries(ids, 1);

  await world.announce(["v1.0.0", "v1.0.1"]);
  await world.notifyAll();
  await Promise.all(world.hosts.map((h) => h.waitForVersion("v1.0.1")));
  for (const h of world.hosts) {
    assertEquals(await outcomes(h), ["installed"], h.id);
  }

  // The order and concurrency, from etcd's revision history.
  const rules = { group: world.group, maxConcurrent: 2, canaries: 1 };
  await checkRollout(world.cluster.endpoints, rules, ids, V1);

  // Every host took exactly one slot and holds none now.
  for (const h of world.hosts) {
    const text = await h.metrics();
    for (
      const line of [
        "ysco_fleet_connected 1",
        "ysco_fleet_slot_held 0",
        "ysco_fleet_waiting 0",
        "ysco_fleet_slots_total 1",
        "ysco_fleet_halts_total 0",
      ]
    ) {
      assert(text.split("\n").includes(line), `${h.id}: missing "${line}"`);
    }
    assertMatch(text, /^ysco_fleet_wait_seconds_total \d+(\.\d+)?(e[-+]\d+)?$/m);
    assertMatch(text, /^ysco_fleet_requests_total [1-9]\d*$/m);
    if (h.id === canary) await promtoolCheckMetrics(text);
  }

  // The status of the group, as `ysco fleet status` and the admin page show it.
  const out = await world.fleet(["status", "-json"]);
  assertEquals(out.code, 0, out.stderr);
  const status = JSON.parse(out.stdout);
  assertEquals(status.canaries, [canary]);
  assertEquals(
    status.hosts.map((h: { id: string; version: string; healthy: boolean }) => [
      h.id,
      h.version,
      h.healthy,
    ]),
    ids.map((id) => [id, "v1.0.1", true]),
  );
  assertEquals(status.queue, []);
  assertEquals(
    status.targets.map((t: { version: string; soaked: string[] }) => [t.version, t.soaked]),
    [["v1.0.1", [canary]]],
  );
  const page = await (await world.hosts[0]?.admin("/"))?.text() ?? "";
  assertMatch(page, /5 hosts; 0 of 2 slots taken; canary host-\d, soak 2s\./);
  for (const id of ids) {
    assertMatch(page, new RegExp(`<td[^>]*>${id}(\\s|<)[^]*?<td[^>]*>v1\\.0\\.1</td>`));
  }
  assertMatch(page, new RegExp(`v1\\.0\\.1 ${GO} ran its soak on ${canary}\\.`));
});

Deno.test("ysco run in a fleet: a ysco killed while it holds a slot frees it when its lease expires", async () => {
  await using world = await startFleetWorld({
    hosts: 3,
    config: '[fleet]\nmax_concurrent = 1\ncanaries = 0\nlease_ttl = "4s"\n',
  });
  await world.startAll();
  await world.announce(["v1.0.0", "v1.0.1"]);
  await world.notifyAll();

  // The host that got the slot, once its new version runs (so its service pid is final).
  const dead = await poll("a host soaking the new version in its slot", async () => {
    for (const host of world.hosts) {
      const s = await host.status();
      if (s.Busy?.phase === "soaking" && s.Fleet?.holding) return host;
    }
    return undefined;
  }, 120_000);
  dead.ysco?.kill("SIGKILL");
  await dead.ysco?.status;
  const others = world.hosts.filter((h) => h !== dead);
  for (const h of others) {
    await h.waitForVersion("v1.0.1");
    assertEquals(await outcomes(h), ["installed"], h.id);
  }

  await using client = new EtcdClient({ endpoints: world.cluster.endpoints });
  const events = await readHistory(client, world.group);
  const h = replay(events, world.group);
  const deadStart = h.starts.find((x) => x.id === dead.id);
  const expired = events.find((e) => e.type === "delete" && e.key.endsWith(`/queue/${dead.id}`));
  assert(deadStart && expired, "the killed host installed and its queue key went");
  // Only the lease removes both keys at once: the host state and the queue key.
  assert(
    events.some((e) =>
      e.type === "delete" && e.key.endsWith(`/hosts/${dead.id}`) &&
      e.revision === expired.revision
    ),
    "the host state went with the queue key, by the lease",
  );
  const next = h.starts.filter((x) => x.id !== dead.id);
  assertEquals(next.map((x) => x.id).sort(), others.map((o) => o.id).sort());
  for (const x of next) {
    assert(
      x.revision > expired.revision,
      `${x.id} started at revision ${x.revision}, before the lease expired at ${expired.revision}`,
    );
    assertEquals(x.concurrent, 1, `${x.id} installed alone`);
  }
  const out = await world.fleet(["status", "-json"], others[0]);
  assertEquals(
    JSON.parse(out.stdout).hosts.map((x: { id: string }) => x.id),
    others.map((o) => o.id),
  );
});

Deno.test("ysco run in a fleet: a failing update rolls back on its host and halts the version for the group until resumed", async () => {
  await using world = await startFleetWorld({
    hosts: 4,
    config: '[policy]\nservice = "minor"\n' +
      '[fleet]\nmax_concurrent = 2\ncanaries = 1\nsoak = "2s"\nlease_ttl = "4s"\n',
  });
  const ids = world.hosts.map((h) => h.id);
  const [canaryId = ""] = canaries(ids, 1);
  const failing = world.host(canaryId);
  const others = world.hosts.filter((h) => h !== failing);
  const [nextCanary = ""] = canaries(others.map((h) => h.id), 1);
  // v1.0.1 exits at once on the canary's host only.
  await world.startAll((h) =>
    h === failing ? { TESTSVC_ONLY_VERSION: "v1.0.1", TESTSVC_EXIT_CODE: "3" } : {}
  );
  await world.announce(["v1.0.0", "v1.0.1"]);
  await world.notifyAll();

  // The canary rolls back; every other host waits, halted, on v1.0.0.
  await failing.ysco?.waitFor(/msg="update ended" .*outcome="rolled back"/, 120_000);
  await failing.waitForVersion("v1.0.0");
  await allWaiting(others, "v1.0.1", /^halted: exited with status 3 \(rolled back on host-\d\)$/);
  assertEquals(await halts(world), [["v1.0.1", canaryId, "exited with status 3"]]);
  const text = await world.fleet(["status"]);
  assertMatch(
    text.stdout,
    new RegExp(
      `^HALTED v1\\.0\\.1 ${GO}: rolled back on ${canaryId} at \\S+: exited with status 3\\n  resume with: ysco fleet resume v1\\.0\\.1$`,
      "m",
    ),
  );
  // The failed host paused its automatic updates, so it is no canary any more.
  assertMatch(
    text.stdout,
    new RegExp(`^${canaryId} +v1\\.0\\.0 +${GO} +yes +paused +error: exited with status 3$`, "m"),
  );
  assertMatch(text.stdout, new RegExp(`canaries ${nextCanary} `));
  assertMatch(await failing.metrics(), /^ysco_fleet_halts_total 1$/m);
  for (const h of others) {
    assertEquals(await h.serviceVersion(), `example.com/testsvc v1.0.0 ${GO}\n`);
    const m = await h.metrics();
    assertMatch(m, /^ysco_fleet_waiting 1$/m);
    assertMatch(m, /^ysco_fleet_waiting_halted 1$/m);
  }
  // The admin page of another host shows the halt with a Resume button, and the group.
  const page = await (await others[0]?.admin("/"))?.text() ?? "";
  assertMatch(
    page,
    new RegExp(
      `Halted: <strong>v1\\.0\\.1 ${GO}</strong> was rolled back on ${canaryId} at [^<]+?: exited with status 3\\.`,
    ),
  );
  assertMatch(
    page,
    /name="command" value="fleetresume"\/?><input type="hidden" name="version" value="v1\.0\.1"\/?><input type="hidden" name="goversion" value="go[\d.]+"\/?><button type="submit">Resume v1\.0\.1<\/button>/,
  );
  assertMatch(
    page,
    new RegExp(`<td[^>]*>${canaryId}</td>\\s*<td[^>]*>v1\\.0\\.0</td>[^]*?<td[^>]*>paused</td>`),
  );
  assertMatch(
    page,
    new RegExp(`<td[^>]*>${nextCanary}</td>\\s*<td[^>]*>v1\\.0\\.0</td>[^]*?<td[^>]*>canary</td>`),
  );

  // A newer version is not halted: the others give up waiting for v1.0.1 and install
  // v1.1.0, the next host in canary order first. The paused host stays put.
  await world.announce(["v1.0.0", "v1.0.1", "v1.1.0"]);
  await world.checkAll();
  await Promise.all(others.map((h) => h.waitForVersion("v1.1.0")));
  const rest = others.map((h) => h.id);
  for (const h of others) {
    await h.idle();
    const state = await h.state();
    assertEquals(
      (state.history as Array<{ outcome: string; to: { version: string }; reason?: string }>)
        .map((x) => [x.to.version, x.outcome, x.reason]),
      [
        [
          "v1.0.1",
          "cancelled",
          "waiting for a fleet slot: no longer scheduled (replaced by a newer version, or cancelled)",
        ],
        ["v1.1.0", "installed", undefined],
      ],
      h.id,
    );
    assertEquals(state.backoff, 0, `${h.id}: no backoff after a wait given up`);
  }
  await checkRollout(
    world.cluster.endpoints,
    { group: world.group, maxConcurrent: 2, canaries: 1 },
    rest,
    { version: "v1.1.0", goVersion: GO },
  );
  assertEquals(await failing.serviceVersion(), `example.com/testsvc v1.0.0 ${GO}\n`);
  assertEquals(await halts(world), [["v1.0.1", canaryId, "exited with status 3"]]);

  // `ysco fleet resume` lifts the halt.
  const resumed = await world.fleet(["resume", "v1.0.1"]);
  assertEquals(
    [resumed.code, resumed.stdout],
    [0, `resumed v1.0.1 ${GO} in group web (halted by ${canaryId}: exited with status 3)\n`],
  );
  assertEquals(await halts(world), []);

  // The failed host's operator tries v1.0.1 again by hand: it fails and halts again,
  // and the Resume button on another host's admin page lifts it.
  const retry = await failing.admin("/update?which=svc&version=v1.0.1&goversion=current", {
    method: "POST",
  });
  assertEquals(
    [retry.status, await retry.text()],
    [500, "500 - Internal Server Error - updating: rolled back: exited with status 3\n"],
  );
  assertEquals(await halts(world), [["v1.0.1", canaryId, "exited with status 3"]]);
  const form = await others[1]?.postForm({
    command: "fleetresume",
    version: "v1.0.1",
    goversion: GO,
  });
  assertEquals(form?.status, 303);
  assertEquals(await halts(world), []);
  const again = await others[1]?.postForm({ command: "fleetresume", version: "v1.0.1" });
  assertEquals(
    [again?.status, await again?.text()],
    [400, "400 - Bad Request - no halt for v1.0.1 in the fleet\n"],
  );

  // From etcd's history: v1.0.1 was installed only on the failing host (twice), and
  // each attempt wrote a halt that an operator lifted.
  await using client = new EtcdClient({ endpoints: world.cluster.endpoints });
  const events = await readHistory(client, world.group);
  const v101 = replay(events, world.group).starts.filter((x) => x.target.version === "v1.0.1");
  assertEquals(v101.map((x) => x.id), [canaryId, canaryId]);
  const haltKey = (e: { key: string }) => e.key.endsWith(`/v1.0.1@${GO}/halt`);
  assertEquals(
    events.filter(haltKey).map((e) => e.type),
    ["put", "delete", "put", "delete"],
  );
});

Deno.test("ysco run in a fleet: one etcd member down changes nothing; without a quorum every host waits and its service keeps running", async () => {
  await using world = await startFleetWorld({
    hosts: 4,
    config: '[policy]\nservice = "minor"\n' +
      '[fleet]\nmax_concurrent = 2\ncanaries = 1\nsoak = "2s"\nlease_ttl = "4s"\n',
  });
  await world.startAll();
  const ids = world.hosts.map((h) => h.id);

  // One member stops (the one every client talks to first) once the canary holds its slot.
  await world.announce(["v1.0.0", "v1.0.1"]);
  await world.notifyAll();
  await poll("the canary holding its slot", async () => {
    for (const h of world.hosts) if ((await h.status()).Fleet?.holding) return true;
    return undefined;
  }, 120_000);
  await world.cluster.stop(0);
  await Promise.all(world.hosts.map((h) => h.waitForVersion("v1.0.1")));
  await checkRollout(
    world.cluster.endpoints.slice(1),
    { group: world.group, maxConcurrent: 2, canaries: 1 },
    ids,
    { version: "v1.0.1", goVersion: GO },
  );
  for (const h of world.hosts) await h.idle();

  // A second member stops: no quorum. A new version is announced; every host waits.
  await world.cluster.stop(1);
  await world.announce(["v1.0.0", "v1.0.1", "v1.1.0"]);
  await world.notifyAll();
  await poll("every host waiting for etcd", async () => {
    for (const h of world.hosts) {
      const s = await h.status();
      if (
        s.Busy?.phase !== "waiting for a fleet slot" || s.Busy.version !== "v1.1.0" ||
        s.Fleet?.connected !== false || !/^etcd: /.test(s.Fleet.waiting?.reason ?? "")
      ) return undefined;
    }
    return true;
  }, 120_000);
  for (const h of world.hosts) {
    // Nothing installed, the service answers, and status and metrics say why.
    assertEquals(await h.serviceVersion(), `example.com/testsvc v1.0.1 ${GO}\n`, h.id);
    const s = await h.status();
    assertEquals(s.Fleet?.holding, undefined);
    assertMatch(s.Fleet?.error?.message ?? "", /etcd/);
    const m = await h.metrics();
    for (
      const line of ["ysco_fleet_connected 0", "ysco_fleet_waiting 1", "ysco_fleet_slot_held 0"]
    ) {
      assert(m.split("\n").includes(line), `${h.id}: missing "${line}"`);
    }
    assertMatch(m, /^ysco_fleet_errors_total [1-9]\d*$/m);
    assertMatch(m, /^ysco_fleet_wait_seconds_total [1-9]/m);
    assertMatch(m, /^ysco_fleet_slots_total 1$/m);
    if (h === world.hosts[0]) await promtoolCheckMetrics(m);
  }
  const page = await (await world.hosts[0]?.admin("/"))?.text() ?? "";
  assertMatch(
    page,
    /<span class="bad">not connected: [^<]*etcd[^<]*; no update is installed until it is back<\/span>/,
  );
  assertMatch(page, /Waiting to install v1\.1\.0 go[\d.]+ since [^:]+:[^<]*: etcd: /);
  // The group still shows, read from the member that is left.
  assertMatch(page, /4 hosts; 0 of 2 slots taken; canary host-\d, soak 2s\./);
  // So does `ysco fleet status`, read from that member, saying it may be stale.
  const cli = await world.fleet(["status"]);
  assertEquals(cli.code, 0, cli.stderr);
  assertMatch(
    cli.stdout,
    new RegExp(`^no quorum: read from member ${world.cluster.endpoints[2]}, may be stale \\(`),
  );
  assertMatch(cli.stdout, /\ngroup web: 4 hosts, 0 of 2 slots taken, canaries host-\d /);

  // Pausing automatic updates gives up the wait (no backoff); unpausing waits again.
  const paused = world.hosts[3];
  assert(paused);
  assertEquals((await paused.postForm({ command: "pause" })).status, 303);
  await paused.idle();
  const state = await paused.state();
  const last = (state.history as Array<{ outcome: string; reason?: string }>).at(-1);
  assertEquals([last?.outcome, last?.reason, state.backoff], [
    "cancelled",
    "waiting for a fleet slot: automatic updates were paused",
    0,
  ]);
  assertEquals((await paused.postForm({ command: "unpause" })).status, 303);
  await poll(`${paused.id} waiting again`, async () => {
    const s = await paused.status();
    return s.Busy?.phase === "waiting for a fleet slot" ? true : undefined;
  }, 120_000);

  // The quorum returns: the hosts go on by themselves.
  await world.cluster.start(1);
  await Promise.all(world.hosts.map((h) => h.waitForVersion("v1.1.0", 120_000)));
  for (const h of world.hosts) assertEquals((await h.idle()).Fleet?.connected, true);
});
