/**
 * process.listen end to end: ysco holds the service's listening sockets and hands
 * them to every service process as fds 3.. (systemd's socket activation), so that a
 * client hitting the service on fresh connections sees no failure across an update,
 * a rollback, a self-update and (with the sockets from a systemd stand-in) a restart
 * of ysco, where the same service listening by itself fails some; and with -user,
 * through setpriv.
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { type LoadResult, startLoad } from "../_load.ts";
import { freePort, httpText, poll, Proc, procStatus, startYsco } from "../../world/process.ts";
import { createLogger } from "../../src/log.ts";
import { closeListenSockets, prepareListenSockets } from "../../src/supervise/listen_sockets.ts";
import { YSCO } from "../../world/util.ts";
import { exists } from "../../src/exists.ts";
import { GO, startWorld, type World } from "../../world/world.ts";
import { deploy, NEW } from "../self/_deploy.ts";

const LAUNCHER = fileURLToPath(new URL("./_socket_launcher.ts", import.meta.url));

interface Info {
  pid: number;
  version: string;
  listeners: Array<{ from: string; name?: string; addr: string }>;
}

async function info(port: number): Promise<Info> {
  return JSON.parse(
    await poll("the service's /info", () => httpText(`http://127.0.0.1:${port}/info`), 60_000),
  );
}

/** The socket inodes ("socket:[N]") of a process's descriptors, by descriptor. */
function sockets(pid: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const target = Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`);
      if (target.startsWith("socket:")) out.set(Number(e.name), target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** Leaves a unix socket file nobody listens on at path (as a killed ysco does). */
async function staleSocket(path: string): Promise<void> {
  const [s] = await prepareListenSockets({
    entries: [`unix:${path}`],
    cmd: "x",
    passed: [],
    log: createLogger({ write: () => {} }),
  });
  closeListenSockets(s ? [s] : []);
  assert((await Deno.lstat(path)).isSocket);
}

function failures(what: string, r: LoadResult): string {
  return `${what}: ${r.failed} of ${r.requests} requests failed: ${r.errors.join("; ")}`;
}

async function update(world: World, version: string): Promise<{ status: number; text: string }> {
  const res = await world.admin(`/update?which=svc&version=${version}&goversion=${GO}`, {
    method: "POST",
  });
  return { status: res.status, text: await res.text() };
}

Deno.test("with process.listen no request fails across an update, a rollback and a self-update", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  const port = world.servicePort;
  await using _feed = await deploy(
    world,
    `[policy]\nself = "manual"\n[monitor]\ndelay = "1h"\n` +
      `[process]\nlisten = ["http=tcp:127.0.0.1:${port}", "unix:ys/app.sock"]\n` +
      `[update]\nhealth_url = "http://127.0.0.1:${port}/healthz"\nhealth_timeout = "2s"\n` +
      'before = "ls -l /proc/$$/fd >hook-fds.txt"\n',
  );
  const unixPath = join(world.dir, "ys", "app.sock");
  await staleSocket(unixPath);
  const ysco = await world.startYsco(
    { TESTSVC_ONLY_VERSION: "v1.1.0", TESTSVC_HEALTH: "fail" },
    undefined,
    `${world.dir}/ysco`,
  );
  const first = await info(port);
  assertEquals(first.listeners, [
    { from: "fd 3", name: "http", addr: `127.0.0.1:${port}` },
    { from: "fd 4", name: "testsvc", addr: unixPath },
  ]);
  assertEquals((await world.status()).Pid, first.pid);
  // The service has the sockets ysco holds (at 200 and above), not at 200 and above.
  const held = [...sockets(ysco.pid)].filter(([fd]) => fd >= 200).map(([, s]) => s);
  assertEquals(held.length, 2, held.join(" "));
  const service = sockets(first.pid);
  for (const s of held) assert([...service.values()].includes(s), `${s} not in the service`);
  assertEquals([...service.keys()].filter((fd) => fd >= 200), []);

  const tcp = startLoad({ port });
  const unix = startLoad({ path: unixPath });
  assertEquals(await update(world, "v1.0.1"), { status: 200, text: "ok\n" });
  // A hook inherits none of the sockets.
  const hookFds = await Deno.readTextFile(join(world.dir, "hook-fds.txt"));
  assert(!hookFds.includes("socket:"), hookFds);

  const self = await world.postForm({ command: "update", which: "self", version: NEW });
  assertEquals(self.status, 303);
  await self.body?.cancel();
  await ysco.waitFor(/msg="ysco back after exec"/, 60_000);

  // The new ysco took the sockets over: a rollback's processes get them too.
  const bad = await update(world, "v1.1.0");
  assertEquals(bad.status, 500);
  assertMatch(bad.text, /rolled back: health check/);
  const after = await info(port);
  assertEquals([after.version, after.listeners.map((l) => l.from)], ["v1.0.1", ["fd 3", "fd 4"]]);
  assertEquals((await world.status()).Pid, after.pid);

  const [t, u] = [await tcp.stop(), await unix.stop()];
  assertEquals(t.failed, 0, failures("tcp", t));
  assertEquals(u.failed, 0, failures("unix", u));
  assert(t.requests >= 20 && u.requests >= 20, `${t.requests} and ${u.requests} requests`);
});

Deno.test("without process.listen the same service refuses connections during an update and a rollback", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  const port = world.servicePort;
  await world.configure(
    `[monitor]\ndelay = "1h"\n[update]\nhealth_url = "http://127.0.0.1:${port}/healthz"\n` +
      'health_timeout = "2s"\n',
  );
  await world.startYsco({ TESTSVC_ONLY_VERSION: "v1.1.0", TESTSVC_HEALTH: "fail" });
  assertEquals((await info(port)).listeners.map((l) => l.from), ["-addr"]);
  const loads = [startLoad({ port }), startLoad({ port }), startLoad({ port })];
  assertEquals(await update(world, "v1.0.1"), { status: 200, text: "ok\n" });
  assertEquals((await update(world, "v1.1.0")).status, 500);
  const results = await Promise.all(loads.map((l) => l.stop()));
  const failed = results.reduce((n, r) => n + r.failed, 0);
  assert(failed > 0, `no request failed: ${results.map((r) => r.requests).join(", ")} requests`);
  assert(
    results.some((r) => r.errors.some((e) => /ConnectionRefused/.test(e))),
    results.flatMap((r) => r.errors).join("; "),
  );
});

Deno.test("ysco refuses a listen path that is not a socket, and an address in use", async () => {
  await using world = await startWorld();
  const port = freePort();
  await world.configure(`[process]\nlisten = ["unix:ys/app.sock"]\n`);
  await Deno.writeTextFile(join(world.dir, "ys", "app.sock"), "not a socket\n");
  const args = ["run", world.cmd, "-addr", `127.0.0.1:${port}`];
  {
    await using proc = startYsco(args, { cwd: world.dir });
    assertEquals((await proc.exit()).code, 1);
    assertMatch(
      proc.output(),
      /msg="cannot listen for the service" .*err="Cannot listen on unix:ys\/app\.sock: \/.*\/ys\/app\.sock exists and is not a socket; remove it or choose another path"/,
    );
    assertEquals(await Deno.readTextFile(join(world.dir, "ys", "app.sock")), "not a socket\n");
  }
  const taken = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    await world.configure(`[process]\nlisten = ["unix:ys/x.sock", "tcp:127.0.0.1:${port}"]\n`);
    await using proc = startYsco(args, { cwd: world.dir });
    assertEquals((await proc.exit()).code, 1);
    assertMatch(
      proc.output(),
      new RegExp(
        `err="Cannot listen on tcp:127\\.0\\.0\\.1:${port}: bind: Address already in use"`,
      ),
    );
    // Nothing half-made is left: the socket ysco made before is gone with its file.
    assertEquals(await exists(join(world.dir, "ys", "x.sock")), false);
  } finally {
    taken.close();
  }
});

Deno.test("ysco started by systemd-socket-activate passes the sockets on, in place of the listen entries with their address", async () => {
  await using world = await startWorld();
  const [p1, p2, servicePort] = [freePort(), freePort(), freePort()];
  await world.configure(
    `[monitor]\ndelay = "1h"\n[process]\nlisten = ["http=tcp:127.0.0.1:${p1}", "unix:ys/app.sock"]\n`,
  );
  const proc = new Proc("systemd-socket-activate", [
    "-l",
    `127.0.0.1:${p1}`,
    "-l",
    `127.0.0.1:${p2}`,
    "--fdname=web:extra",
    YSCO,
    "run",
    "-addr",
    `127.0.0.1:${world.adminPort}`,
    world.cmd,
    "-addr",
    `127.0.0.1:${servicePort}`,
  ], { cwd: world.dir });
  world.ysco = proc;
  await proc.waitFor(/Listening on 127\.0\.0\.1:\d+ as 4/, 30_000);
  // The first connection starts ysco; it waits in the queue until the service answers.
  const got = await info(p1);
  assertEquals(got.listeners, [
    { from: "fd 3", name: "http", addr: `127.0.0.1:${p1}` },
    { from: "fd 4", name: "testsvc", addr: join(world.dir, "ys", "app.sock") },
    { from: "fd 5", name: "extra", addr: `127.0.0.1:${p2}` },
  ]);
  assertEquals(await httpText(`http://127.0.0.1:${p2}/`), `example.com/testsvc v1.0.0 ${GO}\n`);
  await proc.waitFor(
    new RegExp(
      `msg="listening for the service" ysco="" addr=tcp:127\\.0\\.0\\.1:${p1} name=http fd=\\d+ from=systemd`,
    ),
  );
  await proc.waitFor(/msg="passing on a socket from systemd" .*name=extra/);
  // systemd-socket-activate exec'd ysco: same pid, LISTEN_PID was ysco's.
  assertEquals((await world.status()).Pid, got.pid);
});

Deno.test("with sockets held by a systemd stand-in, a restart of ysco refuses no connection", async () => {
  await using world = await startWorld();
  const port = world.servicePort;
  await world.configure(`[monitor]\ndelay = "1h"\n`);
  const proc = new Proc(Deno.execPath(), [
    "run",
    "-A",
    LAUNCHER,
    `http=tcp:127.0.0.1:${port}`,
    YSCO,
    "run",
    "-addr",
    `127.0.0.1:${world.adminPort}`,
    world.cmd,
  ], { cwd: world.dir });
  world.ysco = proc;
  const firstYsco = Number((await proc.waitFor(/launcher: started (\d+)/, 30_000))[1]);
  const before = await info(port);
  assertEquals(before.listeners, [{ from: "fd 3", name: "http", addr: `127.0.0.1:${port}` }]);
  const load = startLoad({ port });
  await poll("requests before the restart", () => load.requests() >= 20 ? true : undefined);
  Deno.kill(firstYsco, "SIGTERM");
  await proc.waitFor(/launcher: exited 0/, 60_000);
  const secondYsco = Number(
    (await proc.waitFor(
      /launcher: started (\d+)/,
      60_000,
      proc.lines.findIndex((l) => l.text === "launcher: exited 0"),
    ))[1],
  );
  assert(secondYsco !== firstYsco);
  const after = await poll("the service restarted", async () => {
    const i = await info(port);
    return i.pid !== before.pid ? i : undefined;
  }, 60_000);
  assertEquals(after.listeners.map((l) => l.from), ["fd 3"]);
  const n = load.requests();
  await poll("requests after the restart", () => load.requests() >= n + 20 ? true : undefined);
  const r = await load.stop();
  assertEquals(r.failed, 0, failures("across the restart", r));
});

Deno.test("with -user the service gets the sockets through setpriv, even a unix socket in a directory it cannot enter", async () => {
  await using world = await startWorld();
  const port = freePort();
  await world.configure(
    `[monitor]\ndelay = "1h"\n[process]\nlisten = ["tcp:127.0.0.1:${port}", "unix:ys/app.sock"]\n`,
  );
  assertEquals(((await Deno.stat(join(world.dir, "ys"))).mode ?? 0) & 0o777, 0o700);
  await using proc = startYsco(
    ["run", "-user", "12345", "-groups", "12345", world.cmd, "-addr", "127.0.0.1:1"],
    { cwd: world.dir },
  );
  world.ysco = proc;
  const got = await info(port);
  assertEquals(got.listeners.map((l) => [l.from, l.addr]), [
    ["fd 3", `127.0.0.1:${port}`],
    ["fd 4", join(world.dir, "ys", "app.sock")],
  ]);
  const status = procStatus(got.pid);
  assertEquals([status.Uid, status.PPid], ["12345\t12345\t12345\t12345", String(proc.pid)]);
  const load = startLoad({ path: join(world.dir, "ys", "app.sock") });
  await poll("requests on the unix socket", () => load.requests() >= 5 ? true : undefined);
  const r = await load.stop();
  assertEquals(r.failed, 0, failures("unix", r));
});
