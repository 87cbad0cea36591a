/**
 * Release builds: the version is stamped into a copy of the sources, and the program
 * is self-contained. `deno compile` cannot run here (it downloads its runtime), so the
 * program is bundled into one file (`deno bundle`) and run with an empty Deno cache
 * inside a network namespace that has only loopback, where the world's servers run
 * too: it must set up, run and update the test service with nothing but that file.
 */

import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { bundleProgram, pseudoVersion, releaseVersion } from "../../scripts/compile.ts";
import { isValidSemver } from "../../src/version/semver.ts";
import { assert, assertEquals, assertMatch, assertThrows } from "../_assert.ts";
import { tempDir } from "../../world/util.ts";

const SCENARIO = fileURLToPath(new URL("./_netns_scenario.ts", import.meta.url));

async function ip(args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stdin: "null" }).output();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** A network namespace with only its loopback interface, up; `await using` deletes it. */
async function netns(): Promise<{ name: string } & AsyncDisposable> {
  const name = `ysco-test-${crypto.randomUUID().slice(0, 8)}`;
  await ip(["netns", "add", name]);
  const ns = {
    name,
    async [Symbol.asyncDispose]() {
      await ip(["netns", "delete", name]);
    },
  };
  try {
    await ip(["netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  } catch (err) {
    await ns[Symbol.asyncDispose]();
    throw err;
  }
  return ns;
}

Deno.test("pseudoVersion() names a commit after a tag as Go does", () => {
  const time = new Date("2026-11-25T21:51:51Z");
  const commit = "7df9c9bde6e2a1b2c3d4e5f60718293a4b5c6d7e";
  const rows: Array<[string, string]> = [
    // After a release: the next patch, prerelease 0.
    ["v1.2.3", "v1.2.4-0.20261125215151-7df9c9bde6e2"],
    // After a prerelease: appended to it.
    ["v0.1.0-dev", "v0.1.0-dev.0.20261125215151-7df9c9bde6e2"],
    ["v2.0.0-rc.1", "v2.0.0-rc.1.0.20261125215151-7df9c9bde6e2"],
  ];
  for (const [base, want] of rows) {
    const got = pseudoVersion(base, time, commit);
    assertEquals(got, want, base);
    assert(isValidSemver(got), got);
  }
  assertThrows(() => pseudoVersion("1.2.3", time, commit), SyntaxError);
});

Deno.test("releaseVersion() takes $YSCO_VERSION, else a version of the checkout", async () => {
  const saved = Deno.env.get("YSCO_VERSION");
  try {
    Deno.env.set("YSCO_VERSION", "v3.4.5");
    assertEquals(await releaseVersion(), "v3.4.5");
    Deno.env.set("YSCO_VERSION", "3.4.5");
    await releaseVersion().then(
      () => assert(false, "accepted 3.4.5"),
      (err) => assertMatch(String(err), /Cannot stamp version "3\.4\.5"/),
    );
    Deno.env.delete("YSCO_VERSION");
    const v = await releaseVersion();
    assert(isValidSemver(v), v);
  } finally {
    if (saved === undefined) Deno.env.delete("YSCO_VERSION");
    else Deno.env.set("YSCO_VERSION", saved);
  }
});

Deno.test("the bundled program runs the test service and updates it with an empty Deno cache and only loopback", async () => {
  await using dir = await tempDir("ysco-bundle-");
  const bundle = join(dir.path, "ysco.js");
  const version = "v1.2.3-release.test+stamped";
  await bundleProgram(bundle, version);
  const head = (await Deno.readTextFile(bundle)).split("\n", 1)[0] ?? "";
  // bin/ysco's permissions and V8 flags, once each.
  assertEquals(
    head,
    "#!/usr/bin/env -S deno run --quiet --no-prompt --no-config --no-lock --allow-all " +
      "--v8-flags=--no-opt,--no-maglev,--max-semi-space-size=1,--no-memory-reducer",
  );
  await using ns = await netns();
  const out = await new Deno.Command("ip", {
    args: ["netns", "exec", ns.name, Deno.execPath(), "test", "--allow-all", SCENARIO],
    env: { YSCO_BUNDLE: bundle, YSCO_BUNDLE_VERSION: version, NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
  assertMatch(text, /^ok \| 1 passed \| 0 failed/m);
});
