/**
 * `ysco init` as a process against the local world: what it writes, and that every
 * failure (an existing deployment, an unknown module, a broken source, a binary or
 * log that does not verify, an interruption) leaves the directory as it was.
 */

import { join } from "node:path";
import { parseConfig } from "../../src/config/parse.ts";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { TEST_VERIFIER_KEY } from "../../world/gobuild_server.ts";
import { poll, Proc } from "../../world/process.ts";
import { startTerminal } from "../_tmux.ts";
import { tempDir, YSCO, ysco } from "../../world/util.ts";
import { GO, GO_OLD, startWorld, type World } from "../../world/world.ts";

const PKG = "example.com/testsvc/cmd/testsvc";

/** The source flags that point init at the world's servers. */
function sourceFlags(world: World): string[] {
  return [
    "-resolver",
    world.dns.address,
    "-goproxy",
    world.proxy.url,
    "-gobuildurl",
    world.gobuild.tlogUrl,
    "-verifierkey",
    TEST_VERIFIER_KEY,
  ];
}

/** The names in a directory, sorted. */
async function list(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("init without a terminal prints plain progress lines and writes a configuration that reads back", async () => {
  await using world = await startWorld({ announced: ["v1.1.0"] });
  await using dir = await tempDir("ysco-init-");
  const out = await ysco(
    ["init", ...sourceFlags(world), "-dir", "state", "-goversion", GO_OLD, `${PKG}@v1.0.1`],
    { cwd: dir.path },
  );
  assertEquals(out.code, 0, out.stderr);
  const name = `testsvc-v1.0.1-${GO_OLD}`;
  assertEquals(await list(dir.path), ["state", "testsvc", name, "ysco"]);
  assertEquals(await list(join(dir.path, "state")), [
    "gobuildverifiercache",
    "password.txt",
    "state.json",
    "ysco.toml",
  ]);
  assertEquals(((await Deno.stat(join(dir.path, "state"))).mode ?? 0) & 0o777, 0o700);
  assertEquals(await Deno.readLink(join(dir.path, "testsvc")), name);
  assertEquals(await Deno.readLink(join(dir.path, "ysco")), YSCO);
  // The binary is the build the log vouches for.
  const build = await Deno.readFile(join(dir.path, name));
  assertEquals(build.length > 1_000_000, true);
  const lines = out.stderr.trimEnd().split("\n");
  const progress = lines.filter((l) => l.startsWith(`downloading ${name}: `));
  assertEquals(
    progress[0],
    `downloading ${name}: 0% (0 B of ${/of (\S+ \S+)\)/.exec(progress[0] ?? "")?.[1]})`,
  );
  assertMatch(progress[progress.length - 1] ?? "", /: 100% \((\S+ \S+) of \1\)$/);
  assert(progress.length >= 3 && progress.length <= 11, out.stderr);
  assert(!out.stderr.includes("\r"), "no redrawing outside a terminal");

  const text = await Deno.readTextFile(join(dir.path, "state", "ysco.toml"));
  assertMatch(text, /^# ysco configuration, written by `ysco init`: /);
  assertMatch(text, /`ysco config` prints every key/);
  const config = parseConfig(text);
  assertEquals(config.auth_file, "state/password.txt");
  assertEquals(config.monitor.resolver, world.dns.address);
  assertEquals(config.monitor.goproxy, world.proxy.url);
  assertEquals(config.gobuild.verifier_key, TEST_VERIFIER_KEY);
  assertEquals(config.gobuild.base_url, world.gobuild.tlogUrl);
  // Only what differs: keys left at their defaults are not written.
  assert(!/^(log_level|methods|delay|dns) =/m.test(text), text);
  const check = await ysco(["testconfig", "state/ysco.toml"], { cwd: dir.path });
  assertEquals([check.code, check.stderr], [0, ""]);

  assertMatch(out.stdout, /^ {2}\.\/ysco run -addr 127\.0\.0\.1:\d+ -dir state \.\/testsvc$/m);
  const password = await Deno.readTextFile(join(dir.path, "state", "password.txt"));
  assertMatch(password, /^[A-Za-z0-9]{16}\n$/);
  assert(out.stdout.includes(`http://admin:${password.trim()}@127.0.0.1:`), out.stdout);
});

Deno.test("init refuses an existing deployment, and files it would replace, before any download", async () => {
  await using world = await startWorld();
  await using dir = await tempDir("ysco-init-");
  const rows: Array<[string, string, RegExp]> = [
    // [what exists, init's argument, message]
    ["ys", PKG, /^ysco init: Cannot initialize: "ys" already exists; /m],
    ["testsvc", PKG, /^ysco init: Cannot initialize: "testsvc" exists in \S+; init will not /m],
    [
      `testsvc-v1.0.0-${GO}`,
      `${PKG}@v1.0.0`,
      /^ysco init: Cannot initialize: "testsvc-v1\.0\.0-go1\.23\.5" exists in /m,
    ],
  ];
  for (const [existing, arg, message] of rows) {
    await Deno.writeTextFile(join(dir.path, existing), "mine\n");
    const out = await ysco(["init", ...sourceFlags(world), arg], { cwd: dir.path });
    assertEquals(out.code, 1, existing);
    assertMatch(out.stderr, message);
    assertEquals(await list(dir.path), [existing]);
    assertEquals(await Deno.readTextFile(join(dir.path, existing)), "mine\n");
    await Deno.remove(join(dir.path, existing));
  }
  const nowhere = await ysco(["init", ...sourceFlags(world), "-dir", "nosuch/ys", PKG], {
    cwd: dir.path,
  });
  assertEquals(nowhere.code, 1);
  assertMatch(
    nowhere.stderr,
    /^ysco init: Cannot initialize: "nosuch", the directory for "nosuch\/ys", does not exist$/m,
  );
  assertEquals(await list(dir.path), []);
  assertEquals(world.gobuild.requests.filter((r) => r.route === "download"), []);
});

Deno.test("init trims the package path only while the sources say there is no such module", async () => {
  await using world = await startWorld();
  await using dir = await tempDir("ysco-init-");
  const unknown = await ysco(
    ["init", ...sourceFlags(world), "example.com/nosuch/cmd/tool"],
    { cwd: dir.path },
  );
  assertEquals(unknown.code, 1);
  assertMatch(
    unknown.stderr,
    /^ysco init: Cannot find the module of package "example\.com\/nosuch\/cmd\/tool": dns and goproxy know none of "example\.com\/nosuch\/cmd\/tool", "example\.com\/nosuch\/cmd", "example\.com\/nosuch", "example\.com"$/m,
  );
  assertEquals(await list(dir.path), []);

  // A broken proxy is not "no module": init stops at the first prefix.
  world.proxy.mode = "500";
  world.proxy.requests.length = 0;
  const broken = await ysco(
    ["init", ...sourceFlags(world), "-methods", "goproxy", PKG],
    { cwd: dir.path },
  );
  assertEquals(broken.code, 1);
  assertMatch(
    broken.stderr,
    /^ysco init: Cannot look up module "example\.com\/testsvc\/cmd\/testsvc": goproxy: Cannot fetch "[^"]+": status 500/m,
  );
  assertEquals(world.proxy.requests, ["example.com/testsvc/cmd/testsvc/@v/list"]);
  assertEquals(await list(dir.path), []);

  // A module with prereleases only has nothing to pick by default.
  world.proxy.mode = "ok";
  world.proxy.files["example.com/testsvc/@v/list"] = "v1.2.0-rc.1\n";
  const prerelease = await ysco(
    ["init", ...sourceFlags(world), "-methods", "goproxy", PKG],
    { cwd: dir.path },
  );
  assertEquals(prerelease.code, 1);
  assertMatch(
    prerelease.stderr,
    /^ysco init: Cannot initialize: module "example\.com\/testsvc" has no stable version yet \(only v1\.2\.0-rc\.1\); name one: ysco init example\.com\/testsvc\/cmd\/testsvc@VERSION$/m,
  );
  assertEquals(await list(dir.path), []);
});

Deno.test("init leaves nothing behind when the binary or the log does not verify", async () => {
  await using world = await startWorld();
  await using dir = await tempDir("ysco-init-");
  const rows: Array<[string, () => void, RegExp]> = [
    // [case, fault, message]
    [
      "a corrupted download",
      () => world.gobuild.faults = { download: "corrupt" },
      /^ysco init: Cannot download binary "[^"]+": /m,
    ],
    [
      "a tree signed with a bad signature",
      () => world.gobuild.signature = "bad",
      /^ysco init: Cannot look up example\.com\/testsvc@v1\.0\.0\/cmd\/testsvc linux\/amd64 go1\.23\.5 stripped in log "localhost": /m,
    ],
    [
      "a record for another build",
      () => world.gobuild.faults = { lookup: "corrupt" },
      /^ysco init: Cannot look up example\.com\/testsvc@v1\.0\.0\/cmd\/testsvc /m,
    ],
  ];
  for (const [name, fault, message] of rows) {
    world.gobuild.faults = {};
    world.gobuild.signature = "good";
    fault();
    const out = await ysco(["init", ...sourceFlags(world), PKG], { cwd: dir.path });
    assertEquals(out.code, 1, name);
    assertMatch(out.stderr, message, name);
    assertEquals(await list(dir.path), [], name);
  }
});

Deno.test("init interrupted with Ctrl-C during the download removes the partial binary and ys.tmp", async () => {
  await using world = await startWorld();
  await using dir = await tempDir("ysco-init-");
  world.gobuild.faults = { download: "stall" };
  await using term = await startTerminal({ cwd: dir.path });
  await term.type(`${YSCO} init ${sourceFlags(world).join(" ")} ${PKG}; echo "exit $?"`);
  // The bar shows the part that arrived, then nothing more comes.
  await term.waitFor(/^testsvc-v1\.0\.0-go1\.23\.5 \[[ =>]+\] +[1-9][0-9]?%/m);
  const partial = await poll("the partial download", async () => {
    const names = await list(dir.path);
    return names.length === 2 ? names : undefined;
  });
  assertMatch(partial[0] ?? "", /^ys\.tmp-/);
  assertMatch(partial[1] ?? "", /^ysco\.testsvc-v1\.0\.0-go1\.23\.5-stripped\./);
  await term.press("C-c");
  await term.waitFor(/^ysco init: interrupted; everything it made is removed\nexit 130$/m);
  assertEquals(await list(dir.path), []);
});

Deno.test("init stopped by SIGTERM while the log does not answer leaves nothing behind", async () => {
  await using world = await startWorld();
  await using dir = await tempDir("ysco-init-");
  world.gobuild.faults = { lookup: "hang" };
  await using proc = new Proc(YSCO, ["init", ...sourceFlags(world), PKG], { cwd: dir.path });
  await proc.waitFor(/^looking up testsvc-v1\.0\.0-go1\.23\.5 for linux\/amd64 in the gobuild log/);
  assertEquals((await list(dir.path)).map((n) => n.replace(/-.*/, "")), ["ys.tmp"]);
  proc.kill("SIGTERM");
  assertEquals((await proc.exit()).code, 130);
  assertMatch(proc.output(), /ysco init: interrupted; everything it made is removed/);
  assertEquals(await list(dir.path), []);
});
