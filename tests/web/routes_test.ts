/**
 * The admin app's routes in process (`app.request()`): authentication before the
 * body, the brute-force limit, cross-site refusals, 405 and 413, the headers of
 * every answer, the host-only keys of the configuration editor, and the checks of
 * updates asked for by hand.
 */

import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { TEST_VERIFIER_KEY } from "../../world/gobuild_server.ts";
import { form, PASSWORD, startApp } from "./_admin_app.ts";

/** A request body that counts how much of it was read. */
function countingBody(size: number): { body: ReadableStream<Uint8Array>; read: () => number } {
  let read = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (read >= size) return controller.close();
      read += chunk.length;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return { body, read: () => read };
}

Deno.test("the admin routes ask for the password before they read any of the body", async () => {
  await using t = await startApp();
  for (const path of ["/", "/json", "/update"]) {
    for (const method of ["GET", "POST"]) {
      const { body, read } = countingBody(100 * 1024 * 1024);
      const res = await t.anon(path, {
        method,
        ...(method === "POST"
          ? {
            body,
            headers: { "Content-Type": "multipart/form-data; boundary=x" },
            duplex: "half",
          } as RequestInit
          : {}),
      });
      assertEquals(
        [res.status, res.headers.get("www-authenticate"), await res.text(), read()],
        [401, 'Basic realm="ysco"', "401 - Unauthorized - bad/missing credentials\n", 0],
        `${method} ${path}`,
      );
    }
  }
  // Wrong user, wrong password: the same.
  for (const credentials of ["root:" + PASSWORD, "admin:wrong", "admin", "garbage"]) {
    const res = await t.anon("/json", { headers: { Authorization: "Basic " + btoa(credentials) } });
    assertEquals(res.status, 401, credentials);
    await res.body?.cancel();
  }
  const ok = await t.admin("/json");
  assertEquals(ok.status, 200);
  assertEquals((await ok.json()).SvcVersion, "v1.0.0");
  // The public routes need no password.
  const version = await t.anon("/service-version");
  assertEquals(
    await version.text(),
    "example.com/testsvc/cmd/testsvc v1.0.0 go1.23.5 linux amd64\n",
  );
});

Deno.test("a malformed form is a 400 for the admin and a 401 for anyone else", async () => {
  await using t = await startApp();
  const malformed = {
    method: "POST",
    body: "garbage",
    headers: { "Content-Type": "multipart/form-data; boundary=x" },
  };
  const anon = await t.anon("/", malformed);
  assertEquals(anon.status, 401);
  await anon.body?.cancel();
  const admin = await t.admin("/", malformed);
  assertEquals(admin.status, 400);
  assertMatch(await admin.text(), /^400 - Bad Request - cannot read the form: /);
  assert(!t.log.some((l) => l.startsWith("level=ERROR")), t.log.join(""));
});

Deno.test("bodies larger than the limit get 413, before reading when the length is declared", async () => {
  await using t = await startApp();
  const big = await t.admin("/", {
    method: "POST",
    body: "x",
    headers: { "Content-Length": String(2 * 1024 * 1024), "Content-Type": "text/plain" },
  });
  assertEquals(
    [big.status, await big.text()],
    [413, "413 - Content Too Large - request body larger than 1048576 bytes\n"],
  );
  const { body, read } = countingBody(100 * 1024 * 1024);
  const streamed = await t.admin("/update", {
    method: "POST",
    body,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    duplex: "half",
  } as RequestInit);
  assertEquals(streamed.status, 413);
  await streamed.body?.cancel();
  assert(read() <= 2 * 1024 * 1024, `read ${read()} bytes`);
  assertEquals(t.actions.calls, []);
  const hook = await t.anon("/notify", {
    method: "POST",
    body: "x".repeat(100 * 1024),
  });
  assertEquals(hook.status, 413);
  await hook.body?.cancel();
  const small = await t.anon("/notify", { method: "POST", body: "{}" });
  assertEquals([small.status, await small.text()], [200, "ok\n"]);
});

Deno.test("failed logins make the client wait longer and longer, and are counted and logged", async () => {
  await using t = await startApp();
  const wrong = { headers: { Authorization: "Basic " + btoa("admin:guess") } };
  // Five free failures.
  for (let i = 0; i < 5; i++) {
    const res = await t.anon("/json", wrong, "192.0.2.7");
    assertEquals([res.status, res.headers.get("retry-after")], [401, null], `failure ${i + 1}`);
    await res.body?.cancel();
  }
  // Then each failure imposes a wait, twice as long as the one before.
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await t.anon("/json", wrong, "192.0.2.7");
    assertEquals(res.status, 401);
    await res.body?.cancel();
    const wait = Number(res.headers.get("retry-after"));
    waits.push(wait);
    // While waiting, even the right password is refused, unchecked.
    const early = await t.admin("/json", {}, "192.0.2.7");
    assertEquals(
      [early.status, early.headers.get("retry-after"), await early.text()],
      [
        429,
        String(wait),
        `429 - Too Many Requests - too many failed logins from 192.0.2.7; try again in ${wait}s\n`,
      ],
    );
    t.clock.now += wait * 1000;
  }
  assertEquals(waits, [1, 2, 4, 8]);
  assertEquals(t.failures.render().at(-1), "ysco_admin_auth_failures_total 9");
  // Another client is not held up.
  assertEquals((await t.admin("/json", {}, "198.51.100.1")).status, 200);
  // Nor is another host of an IPv6 network, but the same /64 is one client.
  for (let i = 0; i < 6; i++) await t.anon("/json", wrong, "2001:db8:1:2::1");
  assertEquals((await t.admin("/json", {}, "2001:db8:1:2:ffff::9")).status, 429);
  assertEquals((await t.admin("/json", {}, "2001:db8:1:3::1")).status, 200);
  // A success after the wait forgets the failures.
  assertEquals((await t.admin("/json", {}, "192.0.2.7")).status, 200);
  const fresh = await t.anon("/json", wrong, "192.0.2.7");
  assertEquals([fresh.status, fresh.headers.get("retry-after")], [401, null]);
  // Warnings: one line per client and minute, not one per failure.
  const warnings = t.log.filter((l) => l.startsWith('level=WARN msg="failed admin login"'));
  assertEquals(warnings.length, 2, warnings.join(""));
  assertMatch(warnings[0] ?? "", / client=192\.0\.2\.7 user=admin failures=1$/m);
});

Deno.test("state-changing requests from another site are refused; scripts without a browser pass", async () => {
  await using t = await startApp();
  const token = await t.token();
  const post = (headers: Record<string, string>) =>
    t.admin("/", {
      method: "POST",
      body: new URLSearchParams({ csrf: token, command: "pause" }),
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    });
  const refused: Array<[Record<string, string>, string]> = [
    [{ Origin: "https://evil.example" }, "Origin https://evil.example is not this site"],
    [
      { Referer: "https://evil.example/page" },
      "Referer https://evil.example/page is not this site",
    ],
    [
      { "Sec-Fetch-Site": "cross-site" },
      "the browser says it comes from another site (Sec-Fetch-Site: cross-site)",
    ],
    [
      { "Sec-Fetch-Site": "same-site" },
      "the browser says it comes from another site (Sec-Fetch-Site: same-site)",
    ],
    [{ Origin: "null" }, "Origin null is not this site"],
    [
      { Origin: "http://admin.test", Referer: "http://evil.example/" },
      "Referer http://evil.example/ is not this site",
    ],
  ];
  for (const [headers, why] of refused) {
    const res = await post(headers);
    assertEquals(
      [res.status, await res.text()],
      [403, `403 - Forbidden - cross-site request refused: ${why}\n`],
      JSON.stringify(headers),
    );
  }
  const api = await t.admin("/update?which=svc&version=v1.0.1&goversion=current", {
    method: "POST",
    headers: { Referer: "https://evil.example/" },
  });
  assertEquals(api.status, 403);
  await api.body?.cancel();
  assertEquals(t.actions.calls, []);
  // The page's own forms: same origin (Origin: null with no-referrer, but Sec-Fetch-Site says so).
  const accepted: Array<Record<string, string>> = [
    {},
    { Origin: "http://admin.test", "Sec-Fetch-Site": "same-origin" },
    { Origin: "null", "Sec-Fetch-Site": "same-origin" },
    { Referer: "http://admin.test/" },
  ];
  for (const headers of accepted) {
    const res = await post(headers);
    assertEquals([res.status, res.headers.get("location")], [303, "/"], JSON.stringify(headers));
  }
  assertEquals(t.actions.calls, ["pause", "pause", "pause", "pause"]);
  // A form without the page's token is refused too.
  const noToken = await t.admin("/", form({ command: "pause" }));
  assertEquals(noToken.status, 403);
  await noToken.body?.cancel();
});

Deno.test("every answer carries the security headers; answers behind the password are not cached", async () => {
  await using t = await startApp();
  const rows: Array<[string, Response, boolean]> = [
    ["page", await t.admin("/"), true],
    ["json", await t.admin("/json"), true],
    ["401", await t.anon("/"), true],
    ["404", await t.admin("/nope"), true],
    ["service-version", await t.anon("/service-version"), false],
    ["metrics", await t.anon("/metrics"), false],
  ];
  for (const [name, res, noStore] of rows) {
    await res.body?.cancel();
    const h = res.headers;
    assertEquals(
      [
        h.get("content-security-policy"),
        h.get("x-frame-options"),
        h.get("x-content-type-options"),
        h.get("referrer-policy"),
        h.get("cache-control") === "no-store",
      ],
      [
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'",
        "DENY",
        "nosniff",
        "no-referrer",
        noStore,
      ],
      name,
    );
  }
  // The page has no script and no inline style: the policy allows neither.
  const page = await (await t.admin("/")).text();
  assert(!/<script|\sstyle=|<style/i.test(page), "inline script or style on the page");
  const css = await t.anon("/style.css");
  assertEquals(css.headers.get("content-type"), "text/css; charset=utf-8");
  assertMatch(await css.text(), /@media \(max-width: 40rem\)/);
});

Deno.test("HEAD answers carry the length of the GET answer", async () => {
  await using t = await startApp();
  for (const path of ["/service-version", "/favicon.ico", "/json"]) {
    const get = await t.admin(path);
    const length = (await get.arrayBuffer()).byteLength;
    const head = await t.admin(path, { method: "HEAD" });
    assertEquals(
      [head.status, head.headers.get("content-length"), await head.text()],
      [200, String(length), ""],
      path,
    );
    assert(length > 0, path);
  }
});

Deno.test("wrong methods get 405 with Allow; unknown paths 404", async () => {
  await using t = await startApp();
  const rows: Array<[string, string, string]> = [
    ["PUT", "/", "GET, HEAD, POST"],
    ["GET", "/update", "POST"],
    ["GET", "/notify", "POST"],
    ["DELETE", "/json", "GET, HEAD"],
    ["POST", "/service-version", "GET, HEAD"],
  ];
  for (const [method, path, allow] of rows) {
    const res = await t.admin(path, { method });
    assertEquals(
      [res.status, res.headers.get("allow"), await res.text()],
      [405, allow, `405 - Method Not Allowed - method not allowed (allowed: ${allow})\n`],
      `${method} ${path}`,
    );
  }
  const missing = await t.admin("/nope");
  assertEquals([missing.status, await missing.text()], [404, "404 - Not Found - not found\n"]);
});

Deno.test("the configuration editor refuses changes of host-only keys with 403, naming them", async () => {
  await using t = await startApp({ config: '[update]\ndelay = "1h"\n' });
  const before = await Deno.readTextFile(t.configFile);
  const token = await t.token();
  const rows: Array<[string, string]> = [
    ['[update]\ndelay = "1h"\nbefore = "touch /tmp/pwned"\n', "update.before"],
    ['[update]\ndelay = "1h"\nafter = "id"\n', "update.after"],
    [
      `[update]\ndelay = "1h"\n[gobuild]\nverifier_key = "${TEST_VERIFIER_KEY}"\n` +
      'base_url = "http://evil.example/tlog"\n',
      "gobuild.verifier_key, gobuild.base_url",
    ],
    [
      '[update]\ndelay = "1h"\n[self]\nfeed_url = "https://evil.example/feed"\n' +
      'verifier_key = "releases.example.com+b71dc7a1+ARCbl90em805I2h+g33vdOdPUKGf0Ij6JWsFGOa+MnwS"\n',
      "self.feed_url, self.verifier_key",
    ],
    [
      '[update]\ndelay = "1h"\n[process]\nambient_capabilities = ["CAP_SYS_ADMIN"]\n',
      "process.ambient_capabilities",
    ],
    ['[update]\ndelay = "1h"\n[fleet]\netcd = ["http://evil.example:2379"]\n', "fleet.etcd"],
  ];
  const authLine = before.split("\n")[0] ?? "";
  for (const [rest, keys] of rows) {
    const res = await t.admin(
      "/",
      form({ csrf: token, command: "saveconfig", config: `${authLine}\n${rest}` }),
    );
    assertEquals(
      [res.status, await res.text()],
      [
        403,
        `403 - Forbidden - cannot change ${keys} from the admin page: ${
          keys.includes(",") ? "they decide" : "it decides"
        } what runs commands or what is trusted; edit ${t.configFile} on the host (see docs/security.md)\n`,
      ],
      keys,
    );
  }
  // auth_file too: the password stays the host's.
  await Deno.writeTextFile(join(t.dir.path, "mine.txt"), "attacker-password-123\n");
  const auth = await t.admin(
    "/",
    form({ csrf: token, command: "saveconfig", config: `auth_file = "${t.dir.path}/mine.txt"\n` }),
  );
  assertEquals(auth.status, 403);
  assertMatch(await auth.text(), /cannot change auth_file from the admin page/);
  assertEquals(await Deno.readTextFile(t.configFile), before);
  assert(!t.actions.calls.includes("setConfig"));

  // Other keys are saved and applied; keys read at start say so on the page.
  const ok = await t.admin(
    "/",
    form({ csrf: token, command: "saveconfig", config: `${authLine}\n[fleet]\nsoak = "2h"\n` }),
  );
  assertEquals(ok.status, 303);
  assertEquals(t.actions.calls, ["setConfig"]);
  const page = await (await t.admin("/")).text();
  assertMatch(
    page,
    /<p class="banner warning" id="pending-restart">Changed since ysco started, applies at the next restart of ysco: fleet\.soak\.<\/p>/,
  );
  // The page lists the host-only keys with their values, read only.
  assertMatch(
    page,
    /<td class="key">update\.before<\/td><td data-label="In effect"><code>\(not set\)<\/code>/,
  );
  assertMatch(
    page,
    /<td class="key">gobuild\.verifier_key<\/td><td data-label="In effect"><code>beta\.gobuilds\.org\+/,
  );
});

Deno.test("updates by hand are checked first: the running release and invalid versions get 400", async () => {
  await using t = await startApp();
  const token = await t.token();
  const update = (version: string, goversion: string) =>
    t.admin("/", form({ csrf: token, command: "update", which: "svc", version, goversion }));
  const rows: Array<[string, string, string]> = [
    ["v1.0.0", "go1.23.5", "already at requested version"],
    ["1.2", "go1.23.5", 'invalid version "1.2": not a module version like v1.2.3'],
    ["v1.0.1", "1.23", 'invalid Go version "1.23": not a Go version like go1.23.4'],
    ["latest", "go1.23.5", 'invalid version "latest": not a module version like v1.2.3'],
  ];
  for (const [version, goVersion, message] of rows) {
    const res = await update(version, goVersion);
    assertEquals([res.status, await res.text()], [400, `400 - Bad Request - ${message}\n`]);
  }
  const api = await t.admin("/update?which=svc&version=v1.0&goversion=current", { method: "POST" });
  assertEquals([api.status, await api.text()], [
    400,
    '400 - Bad Request - invalid version "v1.0": not a module version like v1.2.3\n',
  ]);
  assertEquals(t.actions.updates, []);
  const ok = await update("v1.0.1", "go1.23.5");
  assertEquals(ok.status, 303);
  assertEquals(t.actions.calls, ["cancel svc", "update svc v1.0.1 go1.23.5"]);
  // A new Go for the running version is an update.
  assertEquals((await update("v1.0.0", "go1.23.6")).status, 303);
});

Deno.test("the page preselects no version and marks the versions that were rolled back", async () => {
  await using t = await startApp();
  const v = t.actions.view;
  v.state.history = [{
    time: "2026-01-01T11:00:00.000Z",
    which: "svc",
    from: { version: "v1.0.0", goVersion: "go1.23.5" },
    to: { version: "v1.0.1", goVersion: "go1.23.5" },
    outcome: "rolled back",
    reason: "exited with status 3",
    manual: false,
  }];
  v.state.scheduled = [{
    time: "2026-01-02T11:00:00.000Z",
    which: "svc",
    modPath: "example.com/testsvc",
    pkgDir: "/cmd/testsvc",
    version: "v1.0.1",
    goVersion: "go1.23.6",
  }];
  v.lastCheck = {
    time: "2026-01-01T11:30:00.000Z",
    svc: {
      module: "example.com/testsvc",
      method: "dns",
      versions: ["v1.0.1", "v1.1.0"].map((version) => ({
        version,
        prerelease: false,
        pseudo: false,
        incompatible: false,
      })),
      reports: [],
    },
    svcDecision: "patch release v1.0.1 of v1.0.0",
  };
  const page = await (await t.admin("/")).text();
  const section = /<section id="update-service">[^]*?<\/section>/.exec(page)?.[0] ?? "";
  assert(!/name="version"[^>]*checked/.test(section), "a version is preselected");
  assertMatch(section, /value="go1\.23\.5" checked=""/);
  assertMatch(
    section,
    /value="v1\.0\.1"\/> v1\.0\.1<span class="bad rolled-back"> \(rolled back with go1\.23\.5 on [^)]+\)<\/span>/,
  );
  assert(!/v1\.1\.0<span class="bad rolled-back">/.test(section), "v1.1.0 marked");
  // The scheduled build with another Go says which Go was rolled back.
  assertMatch(
    page,
    /<td data-label="Version">v1\.0\.1<span class="bad"> \(rolled back with go1\.23\.5 on [^)]+\)<\/span><\/td>/,
  );
  assertMatch(page, /<span id="policy">Policy: patch release v1\.0\.1 of v1\.0\.0\.<\/span>/);
});

Deno.test("a short admin password is warned about in the log and on the page", async () => {
  await using t = await startApp({ password: "short" });
  assert(
    t.log.some((l) =>
      l.startsWith('level=WARN msg="the admin password is shorter than 12 characters;')
    ),
    t.log.join(""),
  );
  const page = await (await t.admin("/")).text();
  assertMatch(
    page,
    /<p class="banner warning">Warning: the admin password is shorter than 12 characters;/,
  );
});
