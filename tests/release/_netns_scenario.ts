/**
 * The release scenario that bundle_test.ts runs inside a network namespace with only
 * a loopback interface: the bundled program (YSCO_BUNDLE, stamped YSCO_BUNDLE_VERSION)
 * sets up the test service with `init`, runs it and updates it, with a Deno cache
 * that starts empty, against the world's servers (which run in the namespace too).
 * Not a *_test.ts file: the suite runs it only through bundle_test.ts.
 */

import { join } from "node:path";
import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { TEST_VERIFIER_KEY } from "../../world/gobuild_server.ts";
import { freePort, httpText, poll, Proc } from "../../world/process.ts";
import { tempDir } from "../../world/util.ts";
import { GO, startWorld } from "../../world/world.ts";

const bundle = Deno.env.get("YSCO_BUNDLE") ?? "";
const version = Deno.env.get("YSCO_BUNDLE_VERSION") ?? "";

async function run(cmd: string, args: string[], cwd: string, env: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args, cwd, env, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test({
  name: "the bundle sets up, runs and updates the test service offline with an empty Deno cache",
  ignore: bundle === "",
  async fn() {
    // Only loopback: nothing outside can be reached.
    assertEquals([...new Set(Deno.networkInterfaces().map((i) => i.name))], ["lo"]);
    await assertRejects(() => Deno.connect({ hostname: "1.1.1.1", port: 443 }));

    await using cache = await tempDir("ysco-empty-deno-dir-");
    await using world = await startWorld({ announced: ["v1.0.0"] });
    await using dir = await tempDir("ysco-release-");
    const env = { DENO_DIR: cache.path, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };

    // Installed as a person would: the bundle, started through its #! line.
    const init = await run(
      bundle,
      [
        "init",
        "-resolver",
        world.dns.address,
        "-goproxy",
        world.proxy.url,
        "-gobuildurl",
        world.gobuild.tlogUrl,
        "-verifierkey",
        TEST_VERIFIER_KEY,
        "example.com/testsvc/cmd/testsvc",
      ],
      dir.path,
      env,
    );
    assertEquals(init.code, 0, init.stderr);
    assertEquals(await Deno.readLink(join(dir.path, "ysco")), bundle);
    assertEquals(await Deno.readLink(join(dir.path, "testsvc")), `testsvc-v1.0.0-${GO}`);
    const ysco = join(dir.path, "ysco");
    const v = await run(ysco, ["version"], dir.path, env);
    assertMatch(v.stdout, new RegExp(`^ysco ${version.replace(/[.+]/g, "\\$&")} deno `));

    const adminAddr = `127.0.0.1:${freePort()}`;
    const servicePort = freePort();
    await using proc = new Proc(
      ysco,
      ["run", "-addr", adminAddr, "./testsvc", "-addr", `127.0.0.1:${servicePort}`],
      { cwd: dir.path, env },
    );
    const service = () => httpText(`http://127.0.0.1:${servicePort}/`);
    assertEquals(await poll("the service", service, 30_000), `example.com/testsvc v1.0.0 ${GO}\n`);

    await world.announce(["v1.0.1"]);
    const password = (await Deno.readTextFile(join(dir.path, "ys", "password.txt"))).trim();
    const res = await fetch(
      `http://${adminAddr}/update?which=svc&version=latest&goversion=current`,
      { method: "POST", headers: { Authorization: "Basic " + btoa(`admin:${password}`) } },
    );
    assertEquals([res.status, await res.text()], [200, "ok\n"], proc.output());
    assertEquals(
      await poll("the new version", service, 30_000),
      `example.com/testsvc v1.0.1 ${GO}\n`,
    );
    assertEquals(await Deno.readLink(join(dir.path, "testsvc")), `testsvc-v1.0.1-${GO}`);
    proc.kill("SIGTERM");
    assertEquals((await proc.exit()).code, 0, proc.output());

    // Nothing was fetched into the cache: no npm packages, no remote modules.
    for (const sub of ["npm", "remote", "deps"]) {
      const entries = await Array.fromAsync(Deno.readDir(join(cache.path, sub))).catch(() => []);
      assert(entries.length === 0, `${sub}: ${entries.map((e) => e.name).join(" ")}`);
    }
  },
});
