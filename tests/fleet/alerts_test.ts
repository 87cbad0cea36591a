/**
 * Alert-gated rollouts against a real Prometheus that scrapes a test service and
 * evaluates rules on it every second, and a real Alertmanager it sends its alerts to;
 * the gates coordinate through a real etcd.
 */

import { AlertSource, describeAlert } from "../../src/fleet/alerts.ts";
import type { AlertState } from "../../src/fleet/alert_watch.ts";
import { CanarySoak } from "../../src/fleet/canary_soak.ts";
import { EtcdClient } from "../../src/fleet/etcd.ts";
import { parseMatchers } from "../../src/fleet/matchers.ts";
import { canaries } from "../../src/fleet/policy.ts";
import { readFleetStatus } from "../../src/fleet/status.ts";
import { Registry } from "../../src/metrics/registry.ts";
import type { Release } from "../../src/state/state.ts";
import { addFleetMetrics } from "../../src/metrics/ysco_metrics.ts";
import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { startEtcdCluster } from "../../world/etcd.ts";
import { freePort, poll } from "../../world/process.ts";
import {
  type MetricsService,
  type Prometheus,
  startMetricsService,
  startPrometheus,
} from "../_prometheus.ts";
import {
  later,
  readHistory,
  replay,
  simGroup,
  type SimHost,
  type SimSettings,
  waitFor,
} from "../../world/fleet_sim.ts";

const V0: Release = { version: "v1.0.0", goVersion: "go1.23.4" };
const V1: Release = { version: "v1.0.1", goVersion: "go1.23.4" };
const CRITICAL = 'severity="critical"';

// TestBroken fires while the service reports test_broken > 0; AlwaysInfo always fires,
// and the matchers must leave it out.
const RULES = `  - name: test
    rules:
      - alert: TestBroken
        expr: test_broken > 0
        labels:
          severity: critical
      - alert: AlwaysInfo
        expr: vector(1)
        labels:
          severity: info
`;

interface World extends AsyncDisposable {
  service: MetricsService;
  prometheus: Prometheus;
  /** Sets test_broken and waits until Prometheus' alerts say so. */
  broken(on: boolean): Promise<void>;
}

async function startWorld(alertmanager = false): Promise<World> {
  const service = startMetricsService({ test_broken: 0 });
  const prometheus = await startPrometheus({
    targets: [service.target],
    rules: RULES,
    alertmanager,
  }).catch(async (err) => {
    await service[Symbol.asyncDispose]();
    throw err;
  });
  const source = new AlertSource({ url: prometheus.url, matchers: parseMatchers(CRITICAL) });
  return {
    service,
    prometheus,
    async broken(on) {
      service.set("test_broken", on ? 1 : 0);
      await poll(`TestBroken ${on ? "firing" : "clear"}`, async () => {
        const firing = await source.firing();
        return (firing.length > 0) === on ? true : undefined;
      }, 60_000);
    },
    async [Symbol.asyncDispose]() {
      await prometheus[Symbol.asyncDispose]();
      await service[Symbol.asyncDispose]();
    },
  };
}

function settings(endpoints: string[], extra: Partial<SimSettings> = {}): SimSettings {
  return {
    endpoints,
    group: "web",
    maxConcurrent: 3,
    canaries: 0,
    soak: 500,
    leaseTtl: 3000,
    ...extra,
  };
}

function hosts(n: number, s: SimSettings): Promise<SimHost[] & AsyncDisposable> {
  return simGroup(n, V0, s);
}

function metrics(h: SimHost): string {
  const r = new Registry();
  addFleetMetrics(r, () => h.gate.status());
  return r.render();
}

Deno.test("AlertSource reads the firing alerts of Prometheus and of Alertmanager, through the matchers", async () => {
  await using world = await startWorld(true);
  const { prometheus } = world;
  const all = new AlertSource({ url: prometheus.url, matchers: [] });
  const critical = new AlertSource({ url: prometheus.url, matchers: parseMatchers(CRITICAL) });
  await poll("AlwaysInfo firing", async () => (await all.firing()).length > 0 || undefined, 60_000);
  assertEquals((await all.firing()).map((a) => a.name), ["AlwaysInfo"]);
  assertEquals(await critical.firing(), []);
  assertEquals(critical.api, "prometheus");

  await world.broken(true);
  const [alert] = await critical.firing();
  assertEquals(
    alert && describeAlert(alert),
    `TestBroken{instance="${world.service.target}", job="test", severity="critical"}`,
  );
  assertMatch(alert?.since ?? "", /^\d{4}-\d\d-\d\dT/);

  // The same alert as Alertmanager has it, once Prometheus has sent it there.
  const am = new AlertSource({
    url: prometheus.alertmanagerUrl ?? "",
    matchers: parseMatchers('alertname=~"Test.*"'),
  });
  const fromAm = await poll("TestBroken at Alertmanager", async () => {
    const firing = await am.firing();
    return firing.length > 0 ? firing : undefined;
  }, 60_000);
  assertEquals(fromAm.map(describeAlert), [alert && describeAlert(alert)]);
  assertEquals(am.api, "alertmanager");

  // Anything else is an error, never "no alerts".
  const port = freePort();
  await assertRejects(
    () => new AlertSource({ url: `http://127.0.0.1:${port}/`, matchers: [] }).firing(),
    Error,
    `Cannot query alerts at http://127.0.0.1:${port}: GET http://127.0.0.1:${port}/api/v1/alerts: `,
  );
  await assertRejects(
    () => new AlertSource({ url: `http://${world.service.target}`, matchers: [] }).firing(),
    Error,
    "/api/v2/alerts?silenced=false&inhibited=false: status 404",
  );
});

Deno.test("gate: no host takes a slot while a matching alert fires", async () => {
  await using world = await startWorld();
  await using cluster = await startEtcdCluster({ size: 1 });
  const s = settings(cluster.endpoints, {
    alerts: { url: world.prometheus.url, match: CRITICAL, interval: 300 },
  });
  await world.broken(true);
  await using group = await hosts(3, s);
  const rollout = later(Promise.all(group.map((h) => h.update(V1))));
  await waitFor(
    () =>
      group.every((h) =>
        /^alerts firing \(no slot while they fire\): TestBroken\{/.test(
          h.gate.status().waiting?.reason ?? "",
        )
      ),
    () => `every host waiting for the alert: ${group.map((h) => h.gate.status().waiting?.reason)}`,
  );
  const [first] = group;
  assert(first);
  assertEquals(first.gate.status().alerts?.state, "firing");
  assertEquals(first.gate.status().alerts?.match, '{severity="critical"}');
  const m = metrics(first);
  for (const line of ["ysco_fleet_alerts_firing 1", "ysco_fleet_alerts_up 1"]) {
    assert(m.split("\n").includes(line), `missing "${line}" in\n${m}`);
  }

  // The alert clears: the rollout goes on, and every install started after that.
  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  const cleared = await client.put("/test/cleared", "");
  await world.broken(false);
  assertEquals(await rollout, group.map(() => "installed"));
  const starts = replay(await readHistory(client, s.group), s.group).starts;
  assertEquals(starts.length, 3);
  for (const x of starts) assert(x.revision > cleared, `${x.id} installed while the alert fired`);
  assertEquals(first.gate.status().alerts?.state, "clear");
});

Deno.test("gate: alerts that cannot be queried stop every slot (fail closed)", async () => {
  await using cluster = await startEtcdCluster({ size: 1 });
  const url = `http://127.0.0.1:${freePort()}`;
  const s = settings(cluster.endpoints, { alerts: { url, interval: 300 } });
  await using group = await hosts(2, s);
  const rollout = later(Promise.all(group.map((h) => h.update(V1))));
  await waitFor(
    () =>
      group.every((h) =>
        (h.gate.status().waiting?.reason ?? "").startsWith(
          `alerts unknown (no slot until they can be queried): Cannot query alerts at ${url}: `,
        )
      ),
    () => `every host waiting: ${group.map((h) => h.gate.status().waiting?.reason)}`,
  );
  for (const h of group) {
    assertEquals(h.installed, []);
    assert(metrics(h).split("\n").includes("ysco_fleet_alerts_up 0"), metrics(h));
  }
  await Promise.all(group.map((h) => h.gate.close()));
  await assertRejects(() => rollout, Error, "gate closed");
});

Deno.test("gate: an alert that begins during the canary's soak halts the version for the group, named in the halt", async () => {
  await using world = await startWorld();
  await using cluster = await startEtcdCluster({ size: 1 });
  // A soak far longer than the test: the halt must come from the alert.
  const s = settings(cluster.endpoints, {
    canaries: 1,
    maxConcurrent: 2,
    soak: 600_000,
    alerts: { url: world.prometheus.url, match: CRITICAL, interval: 300 },
  });
  await using group = await hosts(4, s);
  const [canaryId] = canaries(group.map((h) => h.id), 1);
  const canary = group.find((h) => h.id === canaryId);
  assert(canary);
  const others = group.filter((h) => h !== canary);
  const rest = later(Promise.all(others.map((h) => h.update(V1))));
  assertEquals(await canary.update(V1), "installed");

  await world.broken(true);
  const alert = `TestBroken{instance="${world.service.target}", job="test", severity="critical"}`;
  const reason = `alert ${alert} fired during the canary soak`;
  await waitFor(
    () =>
      others.every((h) =>
        h.gate.status().waiting?.reason === `halted: ${reason} (canary soak on ${canaryId})`
      ),
    () =>
      `every other host halted: ${others.map((h) => h.gate.status().waiting?.reason).join(" | ")}`,
  );
  await using client = new EtcdClient({ endpoints: cluster.endpoints });
  const status = await poll("the canary's state naming the alert", async () => {
    const status = await readFleetStatus(client, { ...s, canaries: 1 });
    return status.hosts.find((h) => h.id === canaryId)?.lastError === reason ? status : undefined;
  }, 60_000);
  assertEquals(
    status.targets.map((t) => [t.version, t.halt?.by, t.halt?.reason, t.halt?.alert, t.soaked]),
    [["v1.0.1", canaryId, reason, alert, []]],
  );
  assertEquals(canary.gate.status().counters.alertHalts, 1);
  assert(metrics(canary).split("\n").includes("ysco_fleet_alert_halts_total 1"), metrics(canary));
  assert(others.every((h) => h.installed.length === 0));
  await Promise.all(others.map((h) => h.gate.close()));
  await assertRejects(() => rest, Error, "gate closed");
});

Deno.test("CanarySoak counts a soak only while no alert fires, and names the alerts that began during it", async () => {
  const state = (s: AlertState["state"], ...names: string[]): AlertState => ({
    state: s,
    firing: names.map((name) => ({ name, labels: { alertname: name }, since: "" })),
    since: new Date(),
  });
  let due = Promise.withResolvers<void>();
  const soak = new CanarySoak(50, () => due.resolve());
  try {
    // After a restart: what fires at the first answer is the baseline, and only stops the clock.
    assertEquals(soak.report(V1, true), true);
    assertEquals(soak.alerts(state("firing", "Old")), []);
    assertEquals(soak.current?.due, false);
    assertEquals(soak.alerts(state("unknown")), []);
    assertEquals(soak.alerts(state("firing", "Old", "New")).map((a) => a.name), ["New"]);
    soak.accept(soak.alerts(state("firing", "Old", "New")));
    assertEquals(soak.alerts(state("firing", "New")), []);
    // Clear: the clock starts again and the soak becomes due.
    assertEquals(soak.alerts(state("clear")), []);
    await due.promise;
    assertEquals(soak.current?.due, true);
    // A firing alert takes it back.
    soak.alerts(state("firing", "New"));
    assertEquals(soak.current?.due, false);

    // A release installed through a canary slot starts with an empty baseline.
    due = Promise.withResolvers<void>();
    soak.granted(V0);
    assertEquals(soak.report(V0, true), true);
    assertEquals(soak.alerts(state("firing", "New")).map((a) => a.name), ["New"]);
    assertEquals(soak.report(V0, false), false);
    assertEquals(soak.current, undefined);
  } finally {
    soak.stop();
  }
});
