/**
 * The bundle as it is deployed: the real `deno task bundle` file as `ysco-vX` behind
 * the `ysco` symlink, run through its `#!` line with a clean environment (no
 * YSCO_SELF), exactly as the unit `ysco systemd-unit` prints starts it; it must find
 * its own path and update itself.
 */

import { dirname, join } from "node:path";
import { bundleProgram } from "../../scripts/compile.ts";
import { readState } from "../../src/state/state.ts";
import { assertEquals, assertMatch } from "../_assert.ts";
import { RELEASE_VERIFIER_KEY, releaseFile, startFeedServer } from "../_releases.ts";
import { httpText, poll, Proc } from "../../world/process.ts";
import { startWorld } from "../../world/world.ts";
import { tempDir } from "../../world/util.ts";

const OLD = "v0.9.0";
const NEW = "v0.9.1";

/** The words of a unit's ExecStart= or Environment= value (systemd's quoting, simply). */
function words(value: string): string[] {
  return [...value.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) =>
    (m[1] ?? m[2] ?? "").replace(/\\(.)/g, "$1")
  );
}

Deno.test("the bundle deployed as ysco-vX behind ./ysco finds itself and updates itself under its systemd unit", async () => {
  await using world = await startWorld({ announced: ["v1.0.0"] });
  await using home = await tempDir("ysco-home-");
  await using feed = startFeedServer();
  await bundleProgram(join(world.dir, `ysco-${OLD}`), OLD);
  const next = join(home.path, `ysco-${NEW}.js`);
  await bundleProgram(next, NEW);
  await Deno.symlink(`ysco-${OLD}`, join(world.dir, "ysco"));
  feed.files.set(`/${NEW}/ysco-linux-amd64`, await Deno.readFile(next));
  feed.publish({
    time: "2026-11-20T10:00:00Z",
    files: [await releaseFile(NEW, next, `${NEW}/ysco-linux-amd64`)],
  });
  await world.configure(
    `[self]\nfeed_url = "${feed.url}"\nverifier_key = "${RELEASE_VERIFIER_KEY}"\n`,
  );

  // A clean environment, as systemd gives: deno on PATH, nothing of ysco's.
  const clean = [
    "-i",
    `PATH=${dirname(Deno.execPath())}:/usr/bin:/bin`,
    `HOME=${home.path}`,
    "NO_COLOR=1",
  ];
  const runArgs = [
    "-addr",
    `127.0.0.1:${world.adminPort}`,
    world.cmd,
    "-addr",
    `127.0.0.1:${world.servicePort}`,
  ];
  const unitOut = await new Deno.Command("/usr/bin/env", {
    args: [...clean, "./ysco", "systemd-unit", ...runArgs],
    cwd: world.dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const unit = new TextDecoder().decode(unitOut.stdout);
  assertEquals(unitOut.code, 0, new TextDecoder().decode(unitOut.stderr));
  const execStart = words(/^ExecStart=(.*)$/m.exec(unit)?.[1] ?? "");
  assertEquals(execStart.slice(0, 2), [join(world.dir, "ysco"), "run"]);
  const env = [...unit.matchAll(/^Environment=(.*)$/gm)].flatMap((m) => words(m[1] ?? ""));
  assertMatch(env.join(" "), /DENO_DIR=/);

  // Start what the unit starts, where it starts it.
  const cwd = /^WorkingDirectory=(.*)$/m.exec(unit)?.[1] ?? "";
  assertEquals(cwd, world.dir);
  const ysco = new Proc("/usr/bin/env", [...clean, ...env, ...execStart], { cwd });
  world.ysco = ysco;
  await poll("the service answering", () => world.serviceVersion(), 60_000);
  await poll(
    "the admin server",
    () => httpText(`http://127.0.0.1:${world.adminPort}/service-version`),
    60_000,
  );
  await ysco.waitFor(new RegExp(`msg="ysco back after exec" .*prev=${OLD} new=${NEW}`), 120_000);
  const state = await poll("the update recorded", async () => {
    const s = await readState(join(world.dir, "ys"));
    return s.history.length > 0 ? s : undefined;
  }, 60_000);
  assertEquals(state.history.map((h) => [h.outcome, h.to.version]), [["installed", NEW]]);
  assertEquals(await Deno.readLink(join(world.dir, "ysco")), `ysco-${NEW}`);
  assertEquals(state.previousBinarySelf, join(world.dir, `ysco-${OLD}`));
  // The same process runs the new bundle, which reports the new version.
  const cmdline = Deno.readTextFileSync(`/proc/${ysco.pid}/cmdline`).split("\0");
  assertEquals(cmdline.includes(join(world.dir, `ysco-${NEW}`)), true, cmdline.join(" "));
  assertEquals((await world.status()).SelfVersion, NEW);
});
