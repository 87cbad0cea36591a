import { assertMatch } from "../_assert.ts";
import { startApp } from "./_admin_app.ts";

Deno.test("the page's fleet section shows the alert gate and a halt an alert caused", async () => {
  await using t = await startApp();
  const since = new Date("2026-01-01T11:00:00Z");
  t.actions.view.fleet = {
    backend: "etcd",
    id: "host-2",
    group: "web",
    connected: true,
    waiting: {
      version: "v1.0.1",
      goVersion: "go1.23.5",
      since,
      reason: 'halted: alert HighErrorRate{severity="critical"} (canary soak on host-1)',
      halt: {
        version: "v1.0.1",
        goVersion: "go1.23.5",
        by: "host-1",
        reason: "alert HighErrorRate fired during the canary soak",
        at: "2026-01-01T11:30:00.000Z",
        alert: 'HighErrorRate{severity="critical"}',
      },
    },
    alerts: {
      url: "http://127.0.0.1:9090",
      match: '{severity="critical"}',
      api: "prometheus",
      state: "firing",
      firing: [{
        name: "HighErrorRate",
        labels: { severity: "critical" },
        since: since.toISOString(),
      }],
      checkedAt: new Date("2026-01-01T11:59:00Z"),
      since,
      queries: 10,
      failures: 0,
    },
    counters: { slots: 0, waitMs: 0, halts: 0, alertHalts: 0, errors: 0, requests: 3 },
  };
  const page = await (await t.admin("/")).text();
  assertMatch(
    page,
    /alerts at http:\/\/127\.0\.0\.1:9090 \(prometheus\) matching \{severity=(&quot;|")critical(&quot;|")\}: FIRING HighErrorRate.*: no host takes a slot while they fire/,
  );
  assertMatch(
    page,
    /Halted: <strong>v1\.0\.1 go1\.23\.5<\/strong> was halted by the alert HighErrorRate\{severity=(&quot;|")critical(&quot;|")\} during the canary soak on host-1/,
  );
});
