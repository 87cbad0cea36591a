import { fileURLToPath } from "node:url";
import { assertEquals, assertMatch } from "../_assert.ts";
import { fixture, testsvcSpec } from "../../world/tlog_fixture.ts";
import { httpTlogOps } from "../../src/verify/tlog_ops.ts";

const WORKER = fileURLToPath(new URL("./_tlog_worker.ts", import.meta.url));

async function runWorkers(args: string[][]): Promise<string[]> {
  const children = args.map((a) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", WORKER, ...a],
      stdout: "piped",
      stderr: "piped",
    }).spawn()
  );
  const outs = await Promise.all(children.map((c) => c.output()));
  const dec = new TextDecoder();
  for (const o of outs) assertEquals(o.code, 0, dec.decode(o.stderr));
  return outs.map((o) => dec.decode(o.stdout).trim());
}

Deno.test("writeConfig() is a compare-and-swap between two processes: no update is lost", async () => {
  await using f = await fixture(0);
  const outs = await runWorkers([["cas", f.dir, "150"], ["cas", f.dir, "150"]]);
  for (const o of outs) assertMatch(o, /^ok \d+$/);
  const ops = httpTlogOps({ baseUrl: f.server.tlogUrl, dir: f.dir, name: "localhost" });
  assertEquals(new TextDecoder().decode(await ops.readConfig("counter")), "300");
});

Deno.test("two processes looking up while the log grows never roll the stored tree back", async () => {
  await using f = await fixture();
  // Every lookup sees a bigger tree than the one before.
  f.server.onRequest = (route) => {
    if (route === "lookup") f.server.addRecord(`grown at request ${f.server.requests.length}\n`);
  };
  const args = ["lookups", f.dir, f.server.tlogUrl, f.server.verifierKey, "40"];
  const outs = await runWorkers([[...args, "v1.0.0"], [...args, "v1.0.1"]]);
  const seen = outs.map((o) => Number(o.replace(/^ok /, "")));
  const stored = Number((await f.storedNote()).split("\n")[1]);
  assertEquals(stored, Math.max(...seen));
  // And the stored tree still verifies for a new client.
  const got = await f.client().tlog.lookup(testsvcSpec("v1.0.0"));
  assertEquals(got.id, f.builds[0]?.id);
});
