import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { run } from "../../world/go.ts";
import { freePort } from "../../world/process.ts";
import { promtoolCheckMetrics } from "../_promtool.ts";
import { TEST_PASSWORD } from "../../world/service.ts";
import { GO, startWorld } from "../../world/world.ts";

Deno.test("the admin interface requires the password; the service version is public", async () => {
  await using world = await startWorld();
  await world.configure('[monitor]\ndelay = "1h"\n');
  await world.startYsco();
  const base = `http://127.0.0.1:${world.adminPort}`;
  for (const path of ["/", "/json"]) {
    const none = await fetch(base + path);
    assertEquals([none.status, none.headers.get("www-authenticate"), await none.text()], [
      401,
      'Basic realm="ysco"',
      "401 - Unauthorized - bad/missing credentials\n",
    ]);
    const wrong = await fetch(base + path, {
      headers: { Authorization: "Basic " + btoa("admin:wrong") },
    });
    assertEquals(wrong.status, 401);
    await wrong.body?.cancel();
    const otherUser = await fetch(base + path, {
      headers: { Authorization: "Basic " + btoa(`root:${TEST_PASSWORD}`) },
    });
    assertEquals(otherUser.status, 401);
    await otherUser.body?.cancel();
    const ok = await world.admin(path);
    assertEquals(ok.status, 200);
    await ok.body?.cancel();
  }
  const text = await fetch(base + "/service-version");
  assertEquals(await text.text(), `example.com/testsvc/cmd/testsvc v1.0.0 ${GO} linux amd64\n`);
  const json = await fetch(base + "/service-version.json");
  assertEquals(json.headers.get("content-type"), "application/json; charset=utf-8");
  assertEquals(
    await json.text(),
    `{\n\t"arch": "amd64",\n\t"goversion": "${GO}",\n\t"module": "example.com/testsvc",\n\t"os": "linux",\n\t"package": "example.com/testsvc/cmd/testsvc",\n\t"version": "v1.0.0"\n}\n`,
  );
  const missing = await world.admin("/nope");
  assertEquals([missing.status, await missing.text()], [404, "404 - Not Found - not found\n"]);
  const wrongMethod = await world.admin("/notify");
  assertEquals([wrongMethod.status, wrongMethod.headers.get("allow"), await wrongMethod.text()], [
    405,
    "POST",
    "405 - Method Not Allowed - method not allowed (allowed: POST)\n",
  ]);
  const head = await fetch(base + "/service-version", { method: "HEAD" });
  assertEquals([head.status, head.headers.get("content-length"), await head.text()], [
    200,
    String(`example.com/testsvc/cmd/testsvc v1.0.0 ${GO} linux amd64\n`.length),
    "",
  ]);
  // The failed logins are counted (two per path), and the page is not cached or framed.
  const metrics = await (await fetch(base + "/metrics")).text();
  assert(metrics.split("\n").includes("ysco_admin_auth_failures_total 4"), metrics);
  const page = await world.admin("/");
  await page.body?.cancel();
  assertEquals(
    [page.headers.get("cache-control"), page.headers.get("x-frame-options")],
    ["no-store", "DENY"],
  );
  assertMatch(page.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
});

Deno.test("forms and the update API refuse cross-site requests", async () => {
  await using world = await startWorld();
  await world.configure('[monitor]\ndelay = "1h"\n');
  await world.startYsco();
  const noToken = await world.admin("/", {
    method: "POST",
    body: new URLSearchParams({ command: "pause" }),
  });
  assertEquals(noToken.status, 403);
  await noToken.body?.cancel();
  const page = await (await world.admin("/")).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
  const crossSite = await world.admin("/", {
    method: "POST",
    body: new URLSearchParams({ csrf, command: "pause" }),
    headers: { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" },
  });
  assertEquals(crossSite.status, 403);
  await crossSite.body?.cancel();
  const api = await world.admin("/update?which=svc&version=v1.0.1&goversion=current", {
    method: "POST",
    headers: { Origin: "https://evil.example" },
  });
  assertEquals(api.status, 403);
  await api.body?.cancel();
  assertEquals((await world.status()).PauseReason, "");
  // The same form from the page itself works.
  const ok = await world.admin("/", {
    method: "POST",
    body: new URLSearchParams({ csrf, command: "pause" }),
    headers: { Origin: `http://127.0.0.1:${world.adminPort}`, "Sec-Fetch-Site": "same-origin" },
  });
  assertEquals(ok.status, 303);
  assertEquals((await world.status()).PauseReason, "manually paused");
});

Deno.test("no response carries the admin password", async () => {
  await using world = await startWorld();
  await world.configure('[monitor]\ndelay = "1h"\n');
  await world.startYsco();
  for (const path of ["/", "/json", "/metrics", "/service-version", "/service-version.json"]) {
    const body = await (await world.admin(path)).text();
    assert(!body.includes(TEST_PASSWORD), `${path} shows the password`);
  }
});

Deno.test("the config editor validates, saves atomically and applies the new configuration without a restart", async () => {
  await using world = await startWorld();
  await world.configure('[monitor]\ndelay = "1h"\n');
  const ysco = await world.startYsco();
  const pid = (await world.status()).Pid;
  const file = `${world.dir}/ys/ysco.toml`;
  const before = await Deno.readTextFile(file);

  assert(before.includes('[update]\ndelay = "0s"\n'));
  const bad = await world.postForm({
    command: "saveconfig",
    config: before.replace('[update]\ndelay = "0s"\n', '[update]\ndelay = "1s"\n'),
  });
  assertEquals(bad.status, 400);
  assertMatch(
    await bad.text(),
    /^400 - Bad Request - parsing new config:\nys\/ysco\.toml:\d+: update\.delay: must be at least 5s/,
  );
  assertEquals(await Deno.readTextFile(file), before);

  const next = before.replace('log_level = "debug"', 'log_level = "info"') +
    '[[links]]\nurl = "https://status.example.com/"\ntext = "<b>status</b>"\n';
  const ok = await world.postForm({ command: "saveconfig", config: next.replaceAll("\n", "\r\n") });
  assertEquals(ok.status, 303);
  assertEquals(await Deno.readTextFile(file), next);
  assertEquals(((await Deno.stat(file)).mode ?? 0) & 0o777, 0o600);
  await ysco.waitFor(/level=INFO msg="configuration applied"/);
  const json = await world.status();
  assertEquals(json.Pid, pid); // the service was not restarted
  assertEquals(json.Links, [{ URL: "https://status.example.com/", Text: "<b>status</b>" }]);
  const page = await (await world.admin("/")).text();
  assert(page.includes("&lt;b&gt;status&lt;/b&gt;"), "link text is escaped");
});

Deno.test("webhooks trigger one check, not one per call", async () => {
  await using world = await startWorld();
  await world.configure('[monitor]\ndelay = "1h"\n');
  const ysco = await world.startYsco();
  for (let i = 0; i < 5; i++) {
    const res = await fetch(
      `http://127.0.0.1:${world.adminPort}/notify${i % 2 ? "toolchain" : ""}`,
      { method: "POST" },
    );
    assertEquals([res.status, await res.text()], [200, "ok\n"]);
  }
  await ysco.waitFor(/msg="checked for updates"/);
  await new Promise((r) => setTimeout(r, 500));
  assertEquals(ysco.lines.filter((l) => l.text.includes('msg="checked for updates"')).length, 1);
});

Deno.test("metrics pass promtool, on a separate metrics address as well", async () => {
  await using world = await startWorld({ announced: ["v1.0.1"] });
  await world.configure('[update]\ndelay = "1h"\n');
  const metricsPort = freePort();
  const ysco = await world.startYsco({}, [
    "-adminaddr",
    `127.0.0.1:${world.adminPort}`,
    "-metricsaddr",
    `127.0.0.1:${metricsPort}`,
  ]);
  await ysco.waitFor(/msg="checked for updates"/);
  const redirect = await fetch(`http://127.0.0.1:${metricsPort}/`, { redirect: "manual" });
  assertEquals([redirect.status, redirect.headers.get("location")], [302, "/metrics"]);
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assertEquals(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  const notOnAdmin = await world.admin("/metrics");
  assertEquals(notOnAdmin.status, 404);
  await notOnAdmin.body?.cancel();
  await promtoolCheckMetrics(text);
  for (
    const line of [
      "ysco_service_update_available 1",
      "ysco_service_newer_version_available 1",
      "ysco_service_newer_goversion_available 0",
      "ysco_service_update_scheduled 1",
      'ysco_service_version{version="v1.0.0"} 1',
      `ysco_service_goversion{version="${GO}"} 1`,
      'ysco_service_module_path{path="example.com/testsvc"} 1',
      "ysco_updates_paused 0",
      "ysco_monitor_errors_total 0",
    ]
  ) {
    assert(text.split("\n").includes(line), `missing "${line}"`);
  }
  assertMatch(text, /^process_resident_memory_bytes \d+$/m);
  assertMatch(text, /^process_start_time_seconds \d+(\.\d+)?$/m);
  assertMatch(text, /^ysco_update_duration_seconds_bucket\{le="\+Inf"\} 0$/m);
});

Deno.test("the alert rules pass promtool", async () => {
  const out = await run("promtool", [
    "check",
    "rules",
    new URL("../../prometheus.rules", import.meta.url).pathname,
  ]);
  assertMatch(out, /SUCCESS: \d+ rules found/);
});
