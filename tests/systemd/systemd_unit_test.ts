/**
 * `ysco systemd-unit`: the unit's text, systemd's own checks of it (systemd-analyze
 * verify and security, offline), and the hardening that can be tried without a
 * running systemd: NoNewPrivileges and CapabilityBoundingSet, applied with setpriv
 * around the unit's ExecStart, still let ysco start the service as another user with
 * its ambient capabilities.
 */

import { join } from "node:path";
import {
  shellQuote,
  systemdQuote,
  systemdUnit,
  type UnitOptions,
} from "../../src/deploy/unit_file.ts";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { freePort, httpText, poll, Proc, procStatus } from "../../world/process.ts";
import { TEST_PASSWORD } from "../../world/service.ts";
import { tempDir, YSCO, ysco } from "../../world/util.ts";
import { GO, startWorld } from "../../world/world.ts";

const BASE: UnitOptions = {
  name: "app",
  ysco: "/srv/app/ysco",
  args: ["run", "-user", "app", "-addr", "127.0.0.1:1234", "./app"],
  workingDirectory: "/srv/app",
  writablePaths: ["/srv/app", "/srv/app/ys", "/srv/app/"],
  user: "app",
  capabilities: ["CAP_NET_BIND_SERVICE"],
  stopTimeoutMs: 30_000,
  command: ["/srv/app/ysco", "systemd-unit", "-user", "app", "./app"],
};

/** The unit's settings of [Service], by key (the last one wins). */
function settings(unit: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of unit.split("\n")) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1] ?? "", m[2] ?? "");
  }
  return out;
}

async function analyze(args: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command("systemd-analyze", { args, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

Deno.test("systemdQuote() escapes specifiers and variables and quotes what is not a plain word", () => {
  const rows: Array<[string, string]> = [
    ["./app", "./app"],
    ["-addr=127.0.0.1:80", "-addr=127.0.0.1:80"],
    ["100%", "100%%"],
    ["$HOME", '"$$HOME"'],
    ["two words", '"two words"'],
    ['say "hi"\\', '"say \\"hi\\"\\\\"'],
    ["line\nbreak\ttab\u0001", '"line\\nbreak\\ttab\\x01"'],
    [";", '";"'],
    ["", '""'],
  ];
  for (const [word, want] of rows) assertEquals(systemdQuote(word), want, word);
  assertEquals(shellQuote("it's"), "'it'\\''s'");
  assertEquals(shellQuote("./app"), "./app");
});

Deno.test("systemdUnit() hardens by what the deployment needs", () => {
  const unit = systemdUnit(BASE);
  const s = settings(unit);
  assertEquals(s.get("ExecStart"), "/srv/app/ysco run -user app -addr 127.0.0.1:1234 ./app");
  assertEquals(s.get("WorkingDirectory"), "/srv/app");
  assertEquals(s.get("ReadWritePaths"), "/srv/app");
  assertEquals(s.get("ProtectSystem"), "strict");
  assertEquals(s.get("ProtectHome"), "yes");
  assertEquals(s.get("PrivateTmp"), "yes");
  assertEquals(s.get("NoNewPrivileges"), "yes");
  assertEquals(s.get("Restart"), "on-failure");
  assertEquals(s.get("KillMode"), "mixed");
  assertEquals(s.get("TimeoutStopSec"), "45s");
  assertEquals(
    s.get("CapabilityBoundingSet"),
    "CAP_SETUID CAP_SETGID CAP_KILL CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE CAP_NET_BIND_SERVICE",
  );
  assert(!s.has("MemoryDenyWriteExecute"), "V8 needs writable executable memory");
  assertMatch(
    unit,
    /^# {3}\/srv\/app\/ysco systemd-unit -user app \.\/app >\/etc\/systemd\/system\/app\.service$/m,
  );

  const rows: Array<[string, (o: UnitOptions) => UnitOptions, Record<string, string | undefined>]> =
    [
      // [case, options, settings]
      ["without -user: no capability limit", ({ user: _, ...o }) => o, {
        CapabilityBoundingSet: undefined,
      }],
      ["below /home: home directories read-only", (o) => ({
        ...o,
        workingDirectory: "/home/me/app",
        writablePaths: ["/home/me/app"],
      }), { ProtectHome: "read-only", ReadWritePaths: "/home/me/app" }],
      ["below /tmp: no private /tmp", (o) => ({
        ...o,
        workingDirectory: "/tmp/app",
        writablePaths: ["/tmp/app"],
      }), { PrivateTmp: undefined }],
      ["from source: deno's cache", (o) => ({ ...o, denoDir: "/root/.cache/deno" }), {
        Environment: "DENO_DIR=/root/.cache/deno",
        ReadWritePaths: "/srv/app /root/.cache/deno",
        ProtectHome: "read-only",
      }],
      ["elsewhere: every directory", (o) => ({
        ...o,
        writablePaths: ["/srv/app", "/var/lib/app/ys", "/opt/bin"],
      }), { ReadWritePaths: "/srv/app /var/lib/app/ys /opt/bin" }],
      ["a long stop timeout", (o) => ({ ...o, stopTimeoutMs: 120_000 }), {
        TimeoutStopSec: "2m15s",
      }],
    ];
  for (const [name, change, want] of rows) {
    const got = settings(systemdUnit(change(BASE)));
    for (const [key, value] of Object.entries(want)) {
      assertEquals(got.get(key), value, `${name}: ${key}`);
    }
  }
});

Deno.test("systemd-analyze rates the unit's exposure as OK where a bare unit is unsafe", async () => {
  await using dir = await tempDir();
  const hardened = join(dir.path, "app.service");
  await Deno.writeTextFile(hardened, systemdUnit(BASE));
  const bare = join(dir.path, "bare.service");
  await Deno.writeTextFile(bare, "[Service]\nExecStart=/srv/app/ysco run ./app\n");
  const good = await analyze(["security", "--offline=true", "--threshold=50", hardened]);
  assertEquals(good.code, 0, good.out);
  assertMatch(good.out, /Overall exposure level for app\.service: [0-4]\.\d OK/);
  const unsafe = await analyze(["security", "--offline=true", "--threshold=50", bare]);
  assertEquals(unsafe.code, 1, unsafe.out);
});

Deno.test("ysco systemd-unit writes a unit that systemd accepts, and its privilege limits let -user work", async () => {
  await using world = await startWorld();
  await world.configure('[process]\nambient_capabilities = ["CAP_NET_BIND_SERVICE"]\n');
  const servicePort = freePort();
  const out = await ysco([
    "systemd-unit",
    "-user",
    "12345",
    "-groups",
    "12345",
    "-addr",
    `127.0.0.1:${world.adminPort}`,
    "./testsvc",
    "-addr",
    `127.0.0.1:${servicePort}`,
  ], { cwd: world.dir });
  assertEquals([out.code, out.stderr], [0, ""]);
  const unitFile = join(world.dir, "testsvc.service");
  await Deno.writeTextFile(unitFile, out.stdout);
  const verify = await analyze(["verify", unitFile]);
  assertEquals(verify, { code: 0, out: "" });

  const s = settings(out.stdout);
  assertEquals(s.get("WorkingDirectory"), world.dir);
  const argv = (s.get("ExecStart") ?? "").split(" ");
  assertEquals(argv.slice(0, 2), [YSCO, "run"]);
  assertEquals(s.get("NoNewPrivileges"), "yes");
  const caps = (s.get("CapabilityBoundingSet") ?? "").split(" ");
  assert(caps.includes("CAP_NET_BIND_SERVICE"), caps.join(" "));
  // What systemd would apply to ExecStart, applied by setpriv.
  const bounding = ["-all", ...caps.map((c) => "+" + c.replace(/^CAP_/, "").toLowerCase())];
  await using proc = new Proc(
    "setpriv",
    ["--no-new-privs", `--bounding-set=${bounding.join(",")}`, "--", ...argv],
    { cwd: s.get("WorkingDirectory") ?? "" },
  );
  world.ysco = proc;
  assertEquals(
    await poll("the service", () => httpText(`http://127.0.0.1:${servicePort}/`), 30_000),
    `example.com/testsvc v1.0.0 ${GO}\n`,
  );
  const pid = Number((await proc.waitFor(/msg="service started" ysco="" pid=(\d+)/))[1]);
  const service = procStatus(pid);
  assertEquals(service.Uid, "12345\t12345\t12345\t12345");
  assertEquals(service.NoNewPrivs, "1");
  assertEquals(service.CapAmb, "0000000000000400"); // CAP_NET_BIND_SERVICE
  const yscoStatus = procStatus(proc.pid);
  assertEquals(yscoStatus.NoNewPrivs, "1");
  // setuid 7, setgid 6, kill 5, chown 0, fowner 3, dac_override 1, net_bind_service 10.
  assertEquals(yscoStatus.CapBnd, "00000000000004eb");
  const admin = await httpText(`http://127.0.0.1:${world.adminPort}/json`, {
    headers: { Authorization: "Basic " + btoa(`admin:${TEST_PASSWORD}`) },
  });
  assertEquals(JSON.parse(admin ?? "{}").SvcVersion, "v1.0.0");
  proc.kill("SIGTERM");
  assertEquals((await proc.exit()).code, 0);
});

Deno.test("ysco systemd-unit -socket writes the socket unit of process.listen, which systemd accepts with the service unit", async () => {
  await using world = await startWorld();
  const bare = await ysco(["systemd-unit", "-socket", "./testsvc"], { cwd: world.dir });
  assertEquals([bare.code, bare.stdout], [1, ""]);
  assertMatch(bare.stderr, /-socket needs process\.listen in ys\/ysco\.toml/);
  await world.configure(
    '[process]\nlisten = ["http=tcp:127.0.0.1:8080", "tcp::8443", "unix:ys/app.sock"]\n',
  );
  const socket = await ysco(["systemd-unit", "-socket", "-addr", "127.0.0.1:1234", "./testsvc"], {
    cwd: world.dir,
  });
  assertEquals([socket.code, socket.stderr], [0, ""]);
  const streams = socket.stdout.split("\n").filter((l) => l.startsWith("ListenStream="));
  assertEquals(streams, [
    "ListenStream=127.0.0.1:8080",
    "ListenStream=8443",
    `ListenStream=${world.dir}/ys/app.sock`,
  ]);
  const s = settings(socket.stdout);
  assertEquals([s.get("FileDescriptorName"), s.get("Service")], ["testsvc", "testsvc.service"]);
  assertMatch(
    socket.stdout,
    /^# {3}\S+ systemd-unit -socket -addr 127\.0\.0\.1:1234 \.\/testsvc >\/etc\/systemd\/system\/testsvc\.socket$/m,
  );
  const service = await ysco(["systemd-unit", "-addr", "127.0.0.1:1234", "./testsvc"], {
    cwd: world.dir,
  });
  assertEquals(service.code, 0, service.stderr);
  const svc = settings(service.stdout);
  assertEquals(svc.get("Sockets"), "testsvc.socket");
  // -socket is systemd-unit's, not run's.
  assertEquals(svc.get("ExecStart")?.split(" ").slice(1), [
    "run",
    "-addr",
    "127.0.0.1:1234",
    "./testsvc",
  ]);
  const socketFile = join(world.dir, "testsvc.socket");
  const serviceFile = join(world.dir, "testsvc.service");
  await Deno.writeTextFile(socketFile, socket.stdout);
  await Deno.writeTextFile(serviceFile, service.stdout);
  assertEquals(await analyze(["verify", socketFile, serviceFile]), { code: 0, out: "" });
  // A unit with an error is refused, so the verification can fail.
  await Deno.writeTextFile(
    socketFile,
    socket.stdout.replace("ListenStream=8443", "ListenStream=localhost:8443"),
  );
  assertMatch((await analyze(["verify", socketFile, serviceFile])).out, /Failed to parse address/);
});
