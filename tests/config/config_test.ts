import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { CONFIG_SCHEMA } from "../../src/config/config.ts";
import { describeConfig } from "../../src/config/describe.ts";
import { defaultConfig, validateConfig } from "../../src/config/load.ts";
import { changedKeys, keysWith } from "../../src/config/key_flags.ts";
import { ConfigError, keyLines, parseConfig } from "../../src/config/parse.ts";
import type { Fields } from "../../src/config/schema.ts";
import { tempDir, ysco } from "../../world/util.ts";

function issuesOf(text: string): string[] {
  try {
    parseConfig(text, "ysco.toml");
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split("\n");
    throw err;
  }
  return [];
}

Deno.test("parseConfig() fills in defaults for absent keys and keeps explicit values", () => {
  const c = parseConfig(
    'auth_file = "pw"\n[update]\njitter = "0s"\ndelay = "0s"\n[monitor]\nmethods = ["goproxy"]\n',
  );
  assertEquals(c.auth_file, "pw");
  assertEquals(c.log_level, "info");
  assertEquals(c.update.jitter, 0); // "0s" disables jitter: not replaced by the default
  assertEquals(c.update.delay, 0);
  assertEquals(c.update.stop_timeout, 30_000);
  assertEquals(c.monitor.methods, ["goproxy"]);
  assertEquals(c.monitor.interval, 24 * 3600_000);
  assertEquals(c.policy, {
    service: "patch",
    self: "patch",
    service_toolchain: "follow",
    self_toolchain: "follow",
  });
  assertEquals(
    c.gobuild.verifier_key,
    "beta.gobuilds.org+3979319f+AReBl47t6/Zl24/pmarcKhJtsfAU2c1F5Wtu4hrOgOQQ",
  );
  assertEquals(c.links, []);
});

Deno.test("parseConfig() reads every key of a full configuration", () => {
  const c = parseConfig(`
log_level = "debug"
auth_file = "ys/password.txt"
[monitor]
methods = ["goproxy", "dns"]
dns = "l.example.org"
resolver = "[::1]:5353"
goproxy = "http://127.0.0.1:8080/"
goproxy_toolchain = "https://proxy.example/"
delay = "3s"
interval = "1h"
[policy]
service = "minor"
self = "manual"
service_toolchain = "supported"
self_toolchain = "manual"
[update]
delay = "1h30m"
schedule = ["mo-fr 9-17"]
timezone = "Europe/Amsterdam"
jitter = "5m"
all = true
stop_timeout = "10s"
[gobuild]
verifier_key = "localhost+7f833345+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKgJi"
base_url = "http://127.0.0.1:8000/tlog"
[[links]]
url = "https://status.example.com/"
text = "status"
[[links]]
url = "https://runbook.example.com/"
[process]
ambient_capabilities = ["CAP_NET_BIND_SERVICE", "12"]
`);
  assertEquals(c.monitor.resolver, "[::1]:5353");
  assertEquals(c.monitor.delay, 3000);
  assertEquals(c.update.delay, 5400_000);
  assertEquals(c.update.all, true);
  assertEquals(c.update.timezone, "Europe/Amsterdam");
  assertEquals(c.links, [{ url: "https://status.example.com/", text: "status" }, {
    url: "https://runbook.example.com/",
    text: "",
  }]);
  assertEquals(c.process.ambient_capabilities, ["CAP_NET_BIND_SERVICE", "12"]);
});

Deno.test("parseConfig() names the key and line of every problem", () => {
  const rows: Array<[string, string[]]> = [
    // [config text, expected messages]
    ['auth_file = "x"\nlog_level = "verbose"', [
      'ysco.toml:2: log_level: must be one of "debug", "info", "warn", "error", not "verbose"',
    ]],
    ['log_level = "info"', ["ysco.toml: auth_file: required key is missing"]], // auth_file is required
    ['auth_file = "x"\n[monitor]\nintervall = "1h"', [
      'ysco.toml:3: monitor.intervall: unknown key; did you mean "monitor.interval"?',
    ]],
    ['auth_file = "x"\ndelay = "1h"', [
      'ysco.toml:2: delay: unknown key; did you mean "monitor.delay"?',
    ]], // a key of another table
    ['auth_file = "x"\n[update]\ndelay = "3s"', [
      'ysco.toml:3: update.delay: must be at least 5s (or "0s"), not "3s"',
    ]],
    ['auth_file = "x"\n[update]\ndelay = 72', [
      'ysco.toml:3: update.delay: must be a duration string like "1h30m", not the number 72',
    ]],
    ['auth_file = "x"\n[update]\njitter = "1 hour"', [
      'ysco.toml:3: update.jitter: Cannot parse duration "1 hour": unknown unit " hour" (use ns, us, ms, s, m or h)',
    ]],
    ['auth_file = "x"\n[update]\nall = "yes"', [
      'ysco.toml:3: update.all: must be true or false, not the string "yes"',
    ]],
    ['auth_file = "x"\n[update]\ntimezone = "Mars/Olympus"', [
      'ysco.toml:3: update.timezone: unknown time zone "Mars/Olympus" (use an IANA name like "Europe/Amsterdam")',
    ]],
    ['auth_file = "x"\n[monitor]\nmethods = ["dns", "carrier-pigeon"]', [
      'ysco.toml:3: monitor.methods: item 2: must be one of "dns", "goproxy", not "carrier-pigeon"',
    ]],
    ['auth_file = "x"\n[monitor]\nmethods = []', [
      "ysco.toml:3: monitor.methods: must not be empty",
    ]],
    ['auth_file = "x"\n[monitor]\nmethods = ["dns", "dns"]', [
      'ysco.toml:3: monitor.methods: item 2: "dns" is listed twice',
    ]],
    ['auth_file = "x"\n[monitor]\nresolver = "127.0.0.1"', [
      "ysco.toml:3: monitor.resolver: not HOST:PORT (IPv6 as [ADDR]:PORT)",
    ]],
    ['auth_file = "x"\n[monitor]\ngoproxy = "ftp://x/"', [
      'ysco.toml:3: monitor.goproxy: URL scheme must be http or https, not "ftp"',
    ]],
    ['auth_file = "x"\n[policy]\nservice = "major"', [
      'ysco.toml:3: policy.service: must be one of "patch", "minor", "manual", not "major"',
    ]],
    ['auth_file = "x"\n[gobuild]\nverifier_key = "nonsense"', [
      "ysco.toml:3: gobuild.verifier_key: want NAME+HASH+KEY",
    ]],
    ['auth_file = "x"\n[[links]]\ntext = "no url"', [
      "ysco.toml:2: links[0].url: required key is missing",
    ]],
    ['auth_file = "x"\n[process]\nambient_capabilities = ["CAP_FLY"]', [
      'ysco.toml:3: process.ambient_capabilities: item 1 "CAP_FLY": Unknown capability "CAP_FLY" (use a name like CAP_NET_BIND_SERVICE or a number)',
    ]],
    ['auth_file = "x"\n[update\n', [
      "ysco.toml:2: invalid TOML: Invalid TOML document: illegal character in key",
    ]], // TOML syntax
    [
      'auth_file = "x"\nlog_level = "loud"\n[update]\nall = 1\n',
      [
        'ysco.toml:2: log_level: must be one of "debug", "info", "warn", "error", not "loud"',
        "ysco.toml:4: update.all: must be true or false, not the number 1",
      ],
    ], // all problems, not just the first
  ];
  for (const [text, want] of rows) assertEquals(issuesOf(text), want, text);
});

Deno.test("keyLines() finds tables, keys, dotted keys and arrays of tables", () => {
  const lines = keyLines(
    'a = 1\n[monitor]\n  delay = "1s"\n"quoted" = 2\n[[links]]\nurl = "u"\n[[links]]\nurl = "v"\nx.y = 3\n',
  );
  assertEquals(lines.get("a"), 1);
  assertEquals(lines.get("monitor"), 2);
  assertEquals(lines.get("monitor.delay"), 3);
  assertEquals(lines.get("monitor.quoted"), 4);
  assertEquals(lines.get("links[0].url"), 6);
  assertEquals(lines.get("links[1].url"), 8);
  assertEquals(lines.get("links[1].x.y"), 9);
});

Deno.test("describeConfig() documents every key and parses back as a valid configuration", () => {
  for (const mode of ["annotated", "defaults"] as const) {
    const text = describeConfig(mode);
    const config = parseConfig(text, mode);
    // Every key of the schema is present, with a comment above it.
    const paths = (fields: Fields, prefix: string): string[] =>
      Object.entries(fields).flatMap(([k, f]) =>
        f.kind === "table"
          ? paths(f.fields, `${prefix}${k}.`)
          : f.kind === "tables"
          ? []
          : [`${prefix}${k}`]
      );
    const lines = keyLines(text);
    const textLines = text.split("\n");
    for (const path of paths(CONFIG_SCHEMA, "")) {
      const line = lines.get(path);
      assert(line !== undefined, `${mode}: ${path} missing`);
      assertMatch(textLines[line - 2] ?? "", /^# /, `${mode}: ${path} has no comment`);
      assert(!/^# Example: /.test(textLines[line - 3] ?? "") || mode === "annotated", path);
    }
    // Both are the defaults, safe to use as they are.
    assertEquals(config, { ...defaultConfig(), auth_file: "ys/password.txt" });
    // The annotated one shows each example as a comment above the key.
    assertEquals(
      text.includes('# Example: schedule = ["mo-fr 9-17", "sa 10-12"]\nschedule = []\n'),
      mode === "annotated",
    );
    for (const line of textLines) {
      // Documentation wraps; an example is a line of TOML.
      assert(line.length <= 80 || !line.startsWith("#") || line.startsWith("# Example: "), line);
    }
  }
});

Deno.test("validateConfig() reads the password file relative to the working directory", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/ys`);
  await Deno.writeTextFile(`${dir.path}/ys/pw`, "s3cret\r\n\n");
  const { password } = await validateConfig('auth_file = "ys/pw"', "ys/ysco.toml", dir.path);
  assertEquals(password, "s3cret");

  await Deno.writeTextFile(`${dir.path}/ys/empty`, "\n");
  const rows: Array<[string, RegExp]> = [
    // [config, error]
    [
      'auth_file = "ys/missing"',
      /^ys\/ysco.toml:1: auth_file: cannot read password file "ys\/missing": No such file/,
    ],
    [
      'log_level = "info"\nauth_file = "ys/empty"',
      /^ys\/ysco.toml:2: auth_file: password file "ys\/empty" is empty$/,
    ],
  ];
  for (const [text, want] of rows) {
    let message = "";
    await validateConfig(text, "ys/ysco.toml", dir.path).catch((err) => message = err.message);
    assertMatch(message, want);
  }
});

Deno.test("ysco testconfig checks a file or standard input", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/ys`);
  await Deno.writeTextFile(`${dir.path}/ys/password.txt`, "a-long-enough-password\n");
  const example = await ysco(["config"]);
  assertEquals(example.code, 0);
  await Deno.writeTextFile(`${dir.path}/ok.toml`, example.stdout);

  const fromFile = await ysco(["testconfig", "ok.toml"], { cwd: dir.path });
  assertEquals([fromFile.code, fromFile.stdout, fromFile.stderr], [0, "", ""]);
  const defaults = await ysco(["configdefaults"]);
  const fromStdin = await ysco(["testconfig"], { cwd: dir.path, stdin: defaults.stdout });
  assertEquals([fromStdin.code, fromStdin.stderr], [0, ""]);

  const bad = await ysco(["testconfig"], {
    cwd: dir.path,
    stdin: 'auth_file = "ys/password.txt"\n[update]\nschedule = [""]\n',
  });
  assertEquals(bad.code, 1);
  assertEquals(bad.stderr, 'stdin:3: update.schedule: item 1 "": empty schedule entry\n');
  const missing = await ysco(["testconfig", "nope.toml"], { cwd: dir.path });
  assertEquals(missing.code, 1);
  assertMatch(missing.stderr, /^ysco testconfig: cannot read nope.toml: No such file/);
});

Deno.test("parseConfig() with partial lets auth_file be absent, for tools that only read settings", () => {
  assertEquals(issuesOf('log_level = "info"\n'), [
    "ysco.toml: auth_file: required key is missing",
  ]);
  const config = parseConfig('[monitor]\ndelay = "5m"\n', "ysco.toml", { partial: true });
  assertEquals([config.auth_file, config.monitor.delay], ["", 5 * 60_000]);
  // Required keys of tables stay required.
  let message = "";
  try {
    parseConfig('[[links]]\ntext = "x"\n', "ysco.toml", { partial: true });
  } catch (err) {
    message = String(err);
  }
  assertMatch(message, /links\[0\]\.url: required key is missing/);
});

Deno.test("the host-only keys are those that run commands or decide what is trusted", () => {
  assertEquals(keysWith("hostOnly"), [
    "auth_file",
    "update.before",
    "update.after",
    "gobuild.verifier_key",
    "gobuild.base_url",
    "self.feed_url",
    "self.verifier_key",
    "process.ambient_capabilities",
    "process.listen",
    "fleet.etcd",
    "fleet.username",
    "fleet.password_file",
    "fleet.ca_file",
    "fleet.cert_file",
    "fleet.key_file",
    "fleet.fleetlock_url",
    "fleet.alerts_url",
    "fleet.alerts_match",
  ]);
  assertEquals(keysWith("atStart").filter((k) => !k.startsWith("fleet.")), [
    "process.ambient_capabilities",
    "process.listen",
  ]);
  assertEquals(keysWith("atStart").filter((k) => k.startsWith("fleet.")).length, 15);
  const a = parseConfig('auth_file = "p"\n');
  const b = parseConfig(
    'auth_file = "p"\n[update]\nbefore = "x"\ndelay = "1h"\n[fleet]\netcd = ["h:1"]\n',
  );
  assertEquals(changedKeys(a, b, keysWith("hostOnly")), ["update.before", "fleet.etcd"]);
  assertEquals(changedKeys(a, a, keysWith("hostOnly")), []);
});

Deno.test("docs/security.md names every host-only key", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/security.md", import.meta.url));
  for (const key of keysWith("hostOnly")) assert(doc.includes(`\`${key}\``), key);
});

Deno.test("validateConfig() checks the files the configuration names and warns of a short password", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/pw`, "0123456789ab\n");
  await Deno.writeTextFile(`${dir.path}/short`, "01234567890\n");
  const ok = await validateConfig('auth_file = "pw"\n', "f.toml", dir.path);
  assertEquals(ok.warnings, []);
  const short = await validateConfig('auth_file = "short"\n', "f.toml", dir.path);
  assertEquals(short.warnings, [
    "f.toml:1: auth_file: the admin password is shorter than 12 characters; use a longer one " +
    "(ysco init makes 16 random letters and digits)",
  ]);
  let message = "";
  await validateConfig(
    'auth_file = "pw"\n[fleet]\netcd = ["h:1"]\nusername = "u"\npassword_file = "etcd.txt"\n' +
      'cert_file = "c.pem"\nkey_file = "k.pem"\n',
    "f.toml",
    dir.path,
  ).catch((err) => message = err.message);
  assertEquals(message.split("\n").map((l) => l.replace(/: No such file.*$/, "")), [
    'f.toml:5: fleet.password_file: cannot read "etcd.txt"',
    'f.toml:6: fleet.cert_file: cannot read "c.pem"',
    'f.toml:7: fleet.key_file: cannot read "k.pem"',
  ]);
});
