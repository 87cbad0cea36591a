import {
  formatMatchers,
  matchersProblem,
  matchesAll,
  parseMatchers,
} from "../../src/fleet/matchers.ts";
import {
  describeAlert,
  parseAlertmanagerAlerts,
  parsePrometheusAlerts,
} from "../../src/fleet/alerts.ts";
import { canaryOrder, olderRelease, soakVerdict } from "../../src/fleet/policy.ts";
import type { HostState } from "../../src/fleet/layout.ts";
import { assertEquals, assertThrows } from "../_assert.ts";

Deno.test("parseMatchers() reads Prometheus label matchers, with or without braces", () => {
  const rows: Array<[string, string]> = [
    // [text, canonical form]
    ["", "{}"],
    ["{}", "{}"],
    ['severity="critical"', '{severity="critical"}'],
    ['  { severity = "critical" , team!="dev", }  ', '{severity="critical", team!="dev"}'],
    ['alertname=~"Ysco.*|HighErrorRate"', '{alertname=~"Ysco.*|HighErrorRate"}'],
    ['instance!~"test-.*",job="a\\"b\\\\c"', '{instance!~"test-.*", job="a\\"b\\\\c"}'],
    ["severity=critical, team=web", '{severity="critical", team="web"}'],
  ];
  for (const [text, want] of rows) assertEquals(formatMatchers(parseMatchers(text)), want, text);
});

Deno.test("parseMatchers() names what is wrong and where", () => {
  const rows: Array<[string, RegExp]> = [
    // [text, error]
    ['"x"', /^expected a label name at ""x""$/],
    ["severity", /^expected one of =, !=, =~, !~ at ""$/],
    ['severity=="x"', /^expected a value at "="x""$/],
    ['a="x" b="y"', /^expected "," at "b="y""$/],
    ['a="x', /^unterminated string/],
    ['a="\\q"', /^unknown escape at "\\q""$/],
    ['{a="x"', /missing "}"$/],
    ['a=~"(unclosed"', /^a =~ "\(unclosed" is no regular expression/],
  ];
  for (const [text, want] of rows) {
    assertThrows(() => parseMatchers(text), SyntaxError);
    const problem = matchersProblem(text) ?? "";
    assertEquals(want.test(problem), true, `${text}: ${problem}`);
  }
  assertEquals(matchersProblem('severity="critical"'), undefined);
});

Deno.test("matchesAll() anchors regular expressions and treats a missing label as empty", () => {
  const labels = { alertname: "HighErrorRate", severity: "critical", team: "web" };
  const rows: Array<[string, boolean]> = [
    // [matchers, match]
    ["", true],
    ['severity="critical"', true],
    ['severity="warning"', false],
    ['alertname=~"Ysco.*|HighErrorRate"', true],
    ['alertname=~"High"', false],
    ['alertname!~"High.*"', false],
    ['team!="dev"', true],
    ['missing!="x"', true],
    ['missing=""', true],
    ['missing=~".+"', false],
    ['severity="critical", team="db"', false],
  ];
  for (const [text, want] of rows) {
    assertEquals(matchesAll(labels, parseMatchers(text)), want, text);
  }
});

Deno.test("parsePrometheusAlerts() and parseAlertmanagerAlerts() keep the alerts that fire", () => {
  // As Prometheus 2.42 answers GET /api/v1/alerts.
  const prom = {
    status: "success",
    data: {
      alerts: [
        {
          labels: { alertname: "Broken", severity: "critical" },
          annotations: {},
          state: "firing",
          activeAt: "2025-01-02T03:04:05.1Z",
          value: "1e+00",
        },
        { labels: { alertname: "Soon" }, state: "pending", activeAt: "2025-01-02T03:04:06Z" },
      ],
    },
  };
  assertEquals(parsePrometheusAlerts(prom), [
    {
      name: "Broken",
      labels: { alertname: "Broken", severity: "critical" },
      since: "2025-01-02T03:04:05.1Z",
    },
  ]);
  // As Alertmanager 0.25 answers GET /api/v2/alerts.
  const am = [
    {
      labels: { alertname: "Broken", instance: "a" },
      startsAt: "2025-01-02T03:04:05Z",
      status: { state: "active", silencedBy: [], inhibitedBy: [] },
    },
    {
      labels: { alertname: "Quiet" },
      startsAt: "2025-01-02T03:04:05Z",
      status: { state: "suppressed", silencedBy: ["x"], inhibitedBy: [] },
    },
  ];
  const firing = parseAlertmanagerAlerts(am);
  assertEquals(firing?.map(describeAlert), ['Broken{instance="a"}']);
  // Each refuses the other's answer, and anything else.
  assertEquals(parsePrometheusAlerts(am), undefined);
  assertEquals(parseAlertmanagerAlerts(prom), undefined);
  assertEquals(parsePrometheusAlerts({ status: "error" }), undefined);
  assertEquals(parsePrometheusAlerts("<html>"), undefined);
});

Deno.test("soakVerdict() marks only as a canary during a rollout of the target", () => {
  const go = "go1.23.4";
  const host = (id: string, version: string, extra: Partial<HostState> = {}): HostState => ({
    id,
    version,
    goVersion: go,
    healthy: true,
    at: "",
    ...extra,
  });
  const target = { version: "v1.0.1", goVersion: go };
  const ids = ["a", "b", "c"];
  const [canary = "", other = ""] = canaryOrder(ids);
  const rows: Array<[string, HostState[], number, string]> = [
    // [what, hosts, marks, verdict]
    ["others run an older version", ids.map((i) => host(i, "v1.0.0")), 0, "mark"],
    [
      "every host runs it (a group that started on it)",
      ids.map((i) => host(i, "v1.0.1")),
      0,
      "no rollout",
    ],
    ["others run a newer version", ids.map((i) => host(i, "v1.1.0")), 0, "no rollout"],
    [
      "another host waits for it",
      ids.map((i) =>
        host(i, i === canary ? "v1.0.1" : "v1.1.0", {
          ...(i === other ? { waiting: { ...target, since: "" } } : {}),
        })
      ),
      0,
      "mark",
    ],
    ["enough marks", ids.map((i) => host(i, "v1.0.0")), 1, "enough marks"],
  ];
  for (const [what, hosts, marks, want] of rows) {
    assertEquals(soakVerdict(target, canary, hosts, marks, 1), want, what);
  }
  assertEquals(soakVerdict(target, other, ids.map((i) => host(i, "v1.0.0")), 0, 1), "not canary");
  // A paused canary is passed over: the next host in canary order marks.
  const paused = ids.map((i) => host(i, "v1.0.0", i === canary ? { paused: true } : {}));
  assertEquals(
    ids.filter((i) => i !== canary && soakVerdict(target, i, paused, 0, 1) === "mark").length,
    1,
  );
  assertEquals(olderRelease({ version: "v1.0.1", goVersion: "go1.22.1" }, target), true);
  assertEquals(olderRelease({ version: "v1.0.1", goVersion: go }, target), false);
  assertEquals(olderRelease({ version: "", goVersion: "" }, target), false);
});
