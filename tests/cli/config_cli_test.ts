/**
 * The configuration paths of the command line: `ysco config` prints a file that is
 * safe as it is, `ysco testconfig` refuses what `ysco run` refuses and warns of a
 * short password, `ysco check` reads a configuration without auth_file, and every
 * HOST:PORT flag is checked up front.
 */

import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { startDnsmasq } from "../../world/dnsmasq.ts";
import { goBuild } from "../../world/go.ts";
import { tempDir, ysco } from "../../world/util.ts";
import { defaultConfig } from "../../src/config/load.ts";
import { parseConfig } from "../../src/config/parse.ts";

Deno.test("ysco config prints the defaults, with the examples as comments, and testconfig accepts it", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/ys`);
  await Deno.writeTextFile(`${dir.path}/ys/password.txt`, "a-long-enough-password\n");
  const out = await ysco(["config"]);
  assertEquals(out.code, 0);
  // Every value is the default: nothing an update would trip on (health_url, hooks,
  // a feed, a resolver), only the password file every deployment has.
  assertEquals(parseConfig(out.stdout), { ...defaultConfig(), auth_file: "ys/password.txt" });
  assertMatch(
    out.stdout,
    /^# Example: health_url = "http:\/\/127\.0\.0\.1:8080\/healthz"\nhealth_url = ""$/m,
  );
  assertMatch(out.stdout, /^# Example: before = "logger -t ysco .*"\nbefore = ""$/m);
  await Deno.writeTextFile(`${dir.path}/ys/ysco.toml`, out.stdout);
  const check = await ysco(["testconfig", "ys/ysco.toml"], { cwd: dir.path });
  assertEquals([check.code, check.stdout, check.stderr], [0, "", ""]);
  const defaults = await ysco(["configdefaults"]);
  assert(!defaults.stdout.includes("# Example:"));
  assertEquals(parseConfig(defaults.stdout), parseConfig(out.stdout));
});

Deno.test("ysco testconfig refuses what ysco run refuses, and warns of a short password", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/pw`, "short\n");
  const rows: Array<[string, string]> = [
    [
      '[fleet]\netcd = ["http://127.0.0.1:2379"]\nfleetlock_url = "http://127.0.0.1:3333/"\n',
      "stdin:4: fleet.fleetlock_url: cannot be used with fleet.etcd: coordinate through etcd " +
      "or a FleetLock server, not both",
    ],
    [
      '[fleet]\netcd = ["http://127.0.0.1:2379"]\nusername = "ysco"\n',
      "stdin:2: fleet.password_file: required when fleet.username is set",
    ],
    [
      '[fleet]\netcd = ["http://127.0.0.1:2379"]\ncert_file = "c.pem"\n',
      "stdin:2: fleet.key_file: fleet.cert_file and fleet.key_file go together",
    ],
    [
      '[fleet]\netcd = ["http://127.0.0.1:2379"]\nca_file = "nope.pem"\n',
      'stdin:4: fleet.ca_file: cannot read "nope.pem": No such file or directory',
    ],
  ];
  for (const [fleet, want] of rows) {
    const r = await ysco(["testconfig"], { cwd: dir.path, stdin: `auth_file = "pw"\n${fleet}` });
    assertEquals(r.code, 1, fleet);
    assert(r.stderr.startsWith(want), `${fleet}\n${r.stderr}`);
  }
  const weak = await ysco(["testconfig"], { cwd: dir.path, stdin: 'auth_file = "pw"\n' });
  assertEquals([weak.code, weak.stderr], [
    0,
    "warning: stdin:1: auth_file: the admin password is shorter than 12 characters; use a " +
    "longer one (ysco init makes 16 random letters and digits)\n",
  ]);
});

Deno.test("ysco check reads the [monitor] of a configuration without auth_file", async () => {
  await using dns = await startDnsmasq({
    txt: [
      ["testsvc._.example.com.v0.l.gopherwatch.org", ["v=v1.0.1 t=65920080"]],
      ["toolchain.v0.l.gopherwatch.org", ["v=go1.23.2 k=cur t=670d2a3b"]],
    ],
  });
  await using dir = await tempDir();
  await Deno.writeTextFile(
    `${dir.path}/ysco.toml`,
    `[monitor]\nmethods = ["dns"]\nresolver = "${dns.address}"\n`,
  );
  const out = await ysco(["check", "-dir", dir.path, await goBuild({ version: "v1.0.0" })]);
  assertEquals(out.code, 0, out.stderr);
  assertMatch(
    out.stdout,
    /^versions {4}v1\.0\.1 \(discovered 2024-01-01\) \(from dns\)$/m,
  );
});

Deno.test("HOST:PORT flags are checked before anything starts", async () => {
  const rows: Array<[string[], string]> = [
    [
      ["run", "-addr", "127.0.0.1:99999", "./svc"],
      'ysco run: flag -addr: "127.0.0.1:99999": port 99999 out of range 1-65535\n',
    ],
    [
      ["run", "-metricsaddr", "[::1]:0", "./svc"],
      'ysco run: flag -metricsaddr: "[::1]:0": port 0 out of range 1-65535\n',
    ],
    [
      ["systemd-unit", "-adminaddr", "::1:80", "./svc"],
      'ysco systemd-unit: flag -adminaddr: "::1:80": not HOST:PORT (IPv6 as [ADDR]:PORT)\n',
    ],
    [
      ["init", "-addr", "localhost:70000", "example.com/x"],
      'ysco init: flag "-addr": "localhost:70000": port 70000 out of range 1-65535\n',
    ],
  ];
  for (const [args, want] of rows) {
    const r = await ysco(args);
    assertEquals([r.code, r.stderr.split("\n")[0] + "\n"], [2, want], args.join(" "));
  }
});
