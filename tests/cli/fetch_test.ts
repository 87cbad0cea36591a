import { join } from "node:path";
import { GO, startWorld } from "../../world/world.ts";
import { readBuildInfo } from "../../src/buildinfo/mod.ts";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { goBuild, goProxyDir } from "../../world/go.ts";
import { tempDir, ysco } from "../../world/util.ts";
import { fixture, testsvcSpec } from "../../world/tlog_fixture.ts";

async function sha256Hex(path: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

/** Serves a Go module proxy directory over HTTP, as a proxy would. */
function serveProxy(root: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (path.includes("..")) return new Response("bad path\n", { status: 400 });
    try {
      return new Response(await Deno.readFile(join(root, path)));
    } catch {
      return new Response("not found\n", { status: 404 });
    }
  });
}

Deno.test("ysco fetch MODPATH@VERSION/DIR verifies and writes the binary", async () => {
  await using f = await fixture();
  const out = join(f.dir, "testsvc");
  const args = [
    "fetch",
    "-dir",
    join(f.dir, "ys"),
    "-o",
    out,
    "-verifierkey",
    f.server.verifierKey,
    "-baseurl",
    f.server.tlogUrl,
    "-goos",
    "linux",
    "--goarch",
    "amd64",
    "example.com/testsvc@v1.0.1/cmd/testsvc",
    "go1.23.5",
  ];
  const r = await ysco(args);
  assertEquals(r.code, 0, r.stderr);
  const build = f.builds[1];
  assert(build);
  assertEquals(
    r.stdout,
    `record ${build.id}: ${build.text}` +
      `verified in the tree of size ${f.server.size} of log localhost\n` +
      `wrote ${out} (${build.record.size} bytes, sha256 ${build.sha256})\n`,
  );
  assertEquals(await sha256Hex(out), await sha256Hex(await goBuild({ version: "v1.0.1" })));
  assert((((await Deno.stat(out)).mode ?? 0) & 0o111) !== 0, "executable");

  // Again: the lookup comes from the cache, verified again; the file is replaced.
  const again = await ysco(args);
  assertEquals(again.code, 0, again.stderr);
  assertMatch(again.stdout, /of log localhost \(lookup from the cache\)\n/);
});

Deno.test("ysco fetch PKGPATH@VERSION finds the module through the Go module proxy", async () => {
  await using f = await fixture();
  await using proxy = serveProxy(await goProxyDir());
  await using cwd = await tempDir();
  const r = await ysco([
    "fetch",
    `-dir=${join(f.dir, "ys")}`,
    `-verifierkey=${f.server.verifierKey}`,
    `-baseurl=${f.server.tlogUrl}`,
    `-goproxy=http://127.0.0.1:${proxy.addr.port}/`,
    "-goos=linux",
    "-goarch=amd64",
    "example.com/testsvc/cmd/testsvc@v1.0.0",
    "go1.23.5",
  ], { cwd: cwd.path });
  assertEquals(r.code, 0, r.stderr);
  assertEquals(await listDir(cwd.path), ["testsvc-v1.0.0-go1.23.5-stripped"]);
  assertMatch(r.stdout, /^record 3: example\.com\/testsvc v1\.0\.0 \/cmd\/testsvc linux amd64 /);
});

Deno.test("ysco fetch refuses a forked log with the security report, leaving the file alone", async () => {
  await using f = await fixture();
  const out = join(f.dir, "testsvc");
  const common = [
    "fetch",
    "-dir",
    join(f.dir, "ys"),
    "-o",
    out,
    "-verifierkey",
    f.server.verifierKey,
    "-baseurl",
    f.server.tlogUrl,
    "-goos",
    "linux",
    "-goarch",
    "amd64",
  ];
  assertEquals(
    (await ysco([...common, "example.com/testsvc@v1.0.0/cmd/testsvc", "go1.23.5"])).code,
    0,
  );
  const before = await Deno.readFile(out);
  f.server.fork(0, "rewritten\n");
  const r = await ysco([...common, "example.com/testsvc@v1.0.1/cmd/testsvc", "go1.23.5"]);
  assertEquals(r.code, 1);
  assertMatch(
    r.stderr,
    /^SECURITY ERROR\ngobuild transparency log "localhost" misbehavior detected!/,
  );
  assertMatch(
    r.stderr,
    /ysco fetch: Cannot trust log "localhost": security error: two different signed trees of size 5/,
  );
  assertEquals(r.stdout, "");
  assertEquals(await Deno.readFile(out), before);
  assertEquals(await listDir(f.dir), ["testsvc", "ys"]);
});

Deno.test("ysco fetch fails cleanly when the binary does not match its record", async () => {
  await using f = await fixture();
  await f.server.addBuild(testsvcSpec("v1.1.0"), await goBuild({ version: "v1.1.0" }), {
    sum: "0" + "B".repeat(27),
  });
  const out = join(f.dir, "testsvc");
  await Deno.writeTextFile(out, "current\n");
  const r = await ysco([
    "fetch",
    "-dir",
    join(f.dir, "ys"),
    "-o",
    out,
    "-verifierkey",
    f.server.verifierKey,
    "-baseurl",
    f.server.tlogUrl,
    "-goos",
    "linux",
    "-goarch",
    "amd64",
    "example.com/testsvc@v1.1.0/cmd/testsvc",
    "go1.23.5",
  ]);
  assertEquals(r.code, 1);
  assertMatch(
    r.stderr,
    /^ysco fetch: Cannot download binary "http:.*": downloaded binary has sum 0[\w-]{27}, expected 0BBBB/,
  );
  assertEquals(await Deno.readTextFile(out), "current\n");
  assertEquals(await listDir(f.dir), ["testsvc", "ys"]);
});

Deno.test("ysco fetch reports bad command lines with its usage", async () => {
  const rows: Array<[string[], RegExp]> = [
    [["fetch"], /^ysco fetch: missing PKGPATH@VERSION\n\nusage: ysco fetch/],
    [
      ["fetch", "example.com/x", "go1.23.3"],
      /^ysco fetch: "example\.com\/x" is not PKGPATH@VERSION/,
    ],
    [
      ["fetch", "-verifierkey", "x+1+2", "example.com/x@v1.0.0", "go1.23.3"],
      /^ysco fetch: flag "-verifierkey": Cannot parse verifier key "x\+1\+2"/,
    ],
    [
      ["fetch", "-timeout", "soon", "example.com/x@v1.0.0", "go1.23.3"],
      /^ysco fetch: flag "-timeout": /,
    ],
    [
      ["fetch", "example.com/x@v1.0.0/../y", "go1.23.3"],
      /^ysco fetch: "example\.com\/x@v1\.0\.0\/\.\.\/y": bad package directory/,
    ],
  ];
  for (const [args, re] of rows) {
    const r = await ysco(args);
    assertEquals(r.code, 2, args.join(" "));
    assertMatch(r.stderr, re);
  }
});

Deno.test("ysco testconfig reports a verifier key whose hash does not match", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(join(dir.path, "password.txt"), "secret\n");
  const config = `auth_file = "${join(dir.path, "password.txt")}"\n[gobuild]\n` +
    `verifier_key = "gobuild+7f833345+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKgJi"\n`;
  const r = await ysco(["testconfig"], { stdin: config });
  assertEquals(r.code, 1);
  assertMatch(r.stderr, /gobuild\.verifier_key: the hash does not match the name and key/);
  const good = await ysco(["testconfig"], { stdin: config.replace("gobuild+", "localhost+") });
  assertEquals(good.code, 0, good.stderr);
});

Deno.test("ysco fetch takes the current Go release and the sources of DIR/ysco.toml when not told", async () => {
  await using world = await startWorld();
  await world.configure();
  const out = await ysco([
    "fetch",
    "-dir",
    "ys",
    "-o",
    "fetched",
    "example.com/testsvc@v1.0.1/cmd/testsvc",
  ], { cwd: world.dir });
  assertEquals(out.code, 0, out.stderr);
  assertMatch(
    out.stdout,
    new RegExp(
      `^record \\d+: example\\.com/testsvc v1\\.0\\.1 /cmd/testsvc linux amd64 ${GO} \\d+ \\S+ stripped\n`,
    ),
  );
  const info = await readBuildInfo(`${world.dir}/fetched`);
  assertEquals([info.main.version, info.goVersion], ["v1.0.1", GO]);
});
