import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { goBuild } from "../../world/go.ts";
import { freePort, httpText, isAlive, poll, procStatus, startYsco } from "../../world/process.ts";
import { installService, writeYsDir } from "../../world/service.ts";
import { tempDir, ysco } from "../../world/util.ts";

async function servicePid(port: number): Promise<number> {
  return JSON.parse(
    await poll("service answering", () => httpText(`http://127.0.0.1:${port}/info`)),
  ).pid;
}

Deno.test("ysco run forwards INT, TERM, HUP, USR1 and USR2 to the service and exits with its code", async () => {
  await using dir = await tempDir();
  const cmd = await installService(dir.path, { version: "v1.0.0" });
  await writeYsDir(dir.path);
  const port = freePort();
  await using proc = startYsco(["run", cmd, "-addr", `127.0.0.1:${port}`], { cwd: dir.path });
  const pid = await servicePid(port);
  assert(pid !== proc.pid, "the service is a separate process");
  for (
    const [sig, name] of [["SIGHUP", "hangup"], ["SIGUSR1", "user defined signal 1"], [
      "SIGUSR2",
      "user defined signal 2",
    ]] as const
  ) {
    proc.kill(sig);
    await proc.waitFor(new RegExp(`^testsvc v1\\.0\\.0: signal ${name}$`));
  }
  assert(isAlive(proc.pid), "ysco does not exit on signals itself");
  proc.kill("SIGTERM");
  await proc.waitFor(/^testsvc v1\.0\.0: signal terminated$/);
  const status = await proc.exit();
  assertEquals(status.code, 0);
  assert(
    proc.lines.some((l) =>
      l.stream === "err" &&
      /level=INFO msg="service ended after a signal to ysco, quitting" ysco="" signal=SIGTERM exitcode=0/
        .test(l.text)
    ),
    proc.output(),
  );

  // SIGINT: testsvc exits 130 on it, and ysco with it.
  await using again = startYsco(["run", cmd, "-addr", `127.0.0.1:${port}`], { cwd: dir.path });
  await servicePid(port);
  again.kill("SIGINT");
  assertEquals((await again.exit()).code, 130);
});

Deno.test("ysco run exits with the service's exit code, and 128 + signal when a signal killed it", async () => {
  await using dir = await tempDir();
  const cmd = await installService(dir.path, { version: "v1.0.0" });
  await writeYsDir(dir.path);
  await using failing = startYsco(["run", cmd], {
    cwd: dir.path,
    env: { TESTSVC_EXIT_CODE: "42" },
  });
  assertEquals((await failing.exit()).code, 42);
  await failing.waitFor(/level=ERROR msg="service quit, so will we" ysco="" exitcode=42/);

  const port = freePort();
  await using killed = startYsco(["run", cmd, "-addr", `127.0.0.1:${port}`], { cwd: dir.path });
  Deno.kill(await servicePid(port), "SIGKILL");
  assertEquals((await killed.exit()).code, 137);
});

Deno.test("ysco run passes the service's arguments and environment, and warns about non-symlinks", async () => {
  await using dir = await tempDir();
  const cmd = await installService(dir.path, { version: "v1.1.0" }, { symlink: false });
  await writeYsDir(dir.path);
  const port = freePort();
  await using proc = startYsco(["run", cmd, "-addr", `127.0.0.1:${port}`, "--", "extra"], {
    cwd: dir.path,
  });
  const body = JSON.parse(await poll("service", () => httpText(`http://127.0.0.1:${port}/info`)));
  assertEquals(body.args.slice(1), ["-addr", `127.0.0.1:${port}`, "--", "extra"]);
  assertEquals(body.version, "v1.1.0");
  await proc.waitFor(/level=WARN msg="tip: make the service binary a symlink.*path=\.\/testsvc/);
});

Deno.test("ysco run refuses bad command lines with usage and exit 2", async () => {
  await using dir = await tempDir();
  await writeYsDir(dir.path);
  await Deno.writeTextFile(`${dir.path}/script.sh`, "#!/bin/sh\necho hi\n", { mode: 0o755 });
  await Deno.copyFile(await goBuild({ version: "v1.0.0" }), `${dir.path}/svc`);
  const rows: Array<[string[], RegExp]> = [
    // [args, first line of stderr]
    [["run"], /^ysco run: missing CMD$/],
    [
      ["run", "svc"],
      /^ysco run: command path "svc" must be explicit: absolute, or relative starting with \.\/ or \.\.\/$/,
    ],
    [
      ["run", "-addr", ":1", "-adminaddr", ":2", "./svc"],
      /^ysco run: cannot use -addr with -adminaddr or -metricsaddr$/,
    ],
    [
      ["run", "-addr", "localhost", "./svc"],
      /^ysco run: flag -addr: "localhost": not HOST:PORT \(IPv6 as \[ADDR\]:PORT\)$/,
    ],
    [["run", "-groups", "0", "./svc"], /^ysco run: -groups requires -user$/],
    [
      ["run", "-user", "no-such-user-xyz", "./svc"],
      /^ysco run: Cannot find user "no-such-user-xyz" and it is not a numeric uid$/,
    ],
    [
      ["run", "-user", "12345", "./svc"],
      /^ysco run: Cannot run as uid 12345 without a system user: give its groups with -groups$/,
    ],
    [["run", "-bogus", "./svc"], /^ysco run: unknown flag "-bogus"$/],
  ];
  for (const [args, want] of rows) {
    const out = await ysco(args, { cwd: dir.path });
    assertEquals(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
    assertMatch(out.stderr.split("\n")[0] ?? "", want);
    assertMatch(out.stderr, /usage: ysco run \[flags\] CMD \[ARGS\.\.\.\]/);
  }
  // A CMD that is not a Go binary ysco can update: one line, no usage, exit 1.
  const script = await ysco(["run", "./script.sh"], { cwd: dir.path });
  assertEquals([script.code, script.stderr], [
    1,
    "ysco run: command must be a Go binary with module information: ./script.sh: not an executable (unrecognized file format)\n",
  ]);
});

Deno.test("ysco run stops with a clear error for a bad configuration or a corrupt state", async () => {
  await using dir = await tempDir();
  await Deno.copyFile(await goBuild({ version: "v1.0.0" }), `${dir.path}/svc`);
  const missing = await ysco(["run", "./svc"], { cwd: dir.path });
  assertEquals(missing.code, 1);
  assertMatch(
    missing.stderr,
    /level=ERROR msg="cannot load configuration" ysco="" file=ys\/ysco\.toml err="ys\/ysco\.toml: cannot read configuration: No such file/,
  );

  await writeYsDir(dir.path, '[update]\ndelay = "1s"\n');
  const bad = await ysco(["run", "./svc"], { cwd: dir.path });
  assertEquals(bad.code, 1);
  assertMatch(
    bad.stderr,
    /err="ys\/ysco\.toml:3: update\.delay: must be at least 5s \(or \\"0s\\"\), not \\"1s\\""/,
  );

  await writeYsDir(dir.path);
  await Deno.writeTextFile(`${dir.path}/ys/state.json`, "{not json");
  const corrupt = await ysco(["run", "./svc"], { cwd: dir.path });
  assertEquals(corrupt.code, 1);
  assertMatch(
    corrupt.stderr,
    /level=ERROR msg="cannot read state" ysco="" err="Cannot parse state file ys\/state\.json: /,
  );
  assertEquals(await Deno.readTextFile(`${dir.path}/ys/state.json`), "{not json");
});

Deno.test("ysco run -user -groups runs the service with those ids, groups and ambient capabilities", async () => {
  await using dir = await tempDir();
  await Deno.chmod(dir.path, 0o755);
  const cmd = await installService(dir.path, { version: "v1.0.0" });
  await writeYsDir(
    dir.path,
    '[process]\nambient_capabilities = ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]\n',
  );
  const port = freePort();
  // Numeric ids without a system user, as the original's integration test uses them.
  await using proc = startYsco([
    "run",
    "-user",
    "12345",
    "-groups",
    "12345,23456",
    cmd,
    "-addr",
    `127.0.0.1:${port}`,
  ], { cwd: dir.path });
  const pid = await servicePid(port);
  const status = procStatus(pid);
  assertEquals(status.Uid, "12345\t12345\t12345\t12345");
  assertEquals(status.Gid, "12345\t12345\t12345\t12345");
  assertEquals(status.Groups, "12345 23456");
  // CAP_NET_RAW (13) and CAP_NET_BIND_SERVICE (10): bits 0x2400.
  assertEquals(status.CapAmb, "0000000000002400");
  assertEquals(status.CapEff, "0000000000002400");
  await proc.waitFor(
    /level=INFO msg="service started" ysco="" pid=\d+ uid=12345 gid=12345 groups=12345,23456/,
  );
  // It is still ysco's child, and a stop reaches it.
  assertEquals(procStatus(pid).PPid, String(proc.pid));
  proc.kill("SIGTERM");
  assertEquals((await proc.exit()).code, 0);
});

Deno.test("ysco run -user refuses a binary the user cannot execute and warns about writable paths", async () => {
  await using dir = await tempDir(); // 0700: not reachable for another user
  const cmd = await installService(dir.path, { version: "v1.0.0" });
  await writeYsDir(dir.path);
  const refused = await ysco(["run", "-user", "12345", "-groups", "12345", cmd], { cwd: dir.path });
  assertEquals(refused.code, 1);
  assertMatch(
    refused.stderr,
    new RegExp(
      `level=ERROR msg="command not executable for the service's user and groups" ysco="" path=${dir.path} uid=12345 groups=12345`,
    ),
  );

  await Deno.chmod(dir.path, 0o777); // reachable, but the user could replace the binary
  const port = freePort();
  await using proc = startYsco([
    "run",
    "-user",
    "12345",
    "-groups",
    "12345",
    cmd,
    "-addr",
    `127.0.0.1:${port}`,
  ], { cwd: dir.path });
  await servicePid(port);
  await proc.waitFor(
    new RegExp(
      `level=WARN msg="the service's user or groups can write this path; it could replace the binary" ysco="" path=${dir.path}$`,
    ),
  );
});

Deno.test("SIGTERM to ysco kills a service that ignores it after stop_timeout, with its process group", async () => {
  await using dir = await tempDir();
  const cmd = await installService(dir.path, { version: "v1.0.0" });
  await writeYsDir(dir.path, '[update]\nstop_timeout = "1s"\n');
  const port = freePort();
  await using proc = startYsco(["run", cmd, "-addr", `127.0.0.1:${port}`], {
    cwd: dir.path,
    env: { TESTSVC_IGNORE_TERM: "1", TESTSVC_CHILD: "1" },
  });
  const info = JSON.parse(await poll("service", () => httpText(`http://127.0.0.1:${port}/info`)));
  proc.kill("SIGTERM");
  await proc.waitFor(/^testsvc v1\.0\.0: signal terminated$/);
  assertEquals((await proc.exit()).code, 137);
  await proc.waitFor(
    /level=WARN msg="service did not exit after the signal, killing its process group" ysco="" signal=SIGTERM/,
  );
  await poll(
    "service and its child gone",
    () => !isAlive(info.pid) && !isAlive(info.child) ? true : undefined,
  );
});

Deno.test("SIGTERM to ysco: what the service started in its process group is killed when it exits, as on an update", async () => {
  await using dir = await tempDir();
  const cmd = await installService(dir.path, { version: "v1.0.0" });
  await writeYsDir(dir.path);
  const port = freePort();
  await using proc = startYsco(["run", cmd, "-addr", `127.0.0.1:${port}`], {
    cwd: dir.path,
    env: { TESTSVC_CHILD: "1" }, // the service stops on SIGTERM, its child ignores it
  });
  const info = JSON.parse(await poll("service", () => httpText(`http://127.0.0.1:${port}/info`)));
  assert(isAlive(info.child));
  proc.kill("SIGTERM");
  assertEquals((await proc.status).code, 0);
  await poll("the service's child gone", () => !isAlive(info.child) ? true : undefined);
});
