/**
 * A second process for the compare-and-swap tests, run as
 * `deno run -A _tlog_worker.ts MODE ...`:
 *
 * - `cas DIR COUNT`: increments the config file "counter" COUNT times with
 *   compare-and-swap through httpTlogOps (retrying on conflict);
 * - `lookups DIR TLOGURL KEY COUNT VERSION`: looks up the build COUNT times (without
 *   the lookup cache), checks after each that the stored tree never went back, and
 *   prints the largest tree size it saw.
 *
 * @module
 */

// deno-lint-ignore-file no-console -- a test helper process reports on stdout

import { join } from "node:path";
import { TlogClient } from "../../src/verify/tlog_client.ts";
import { httpTlogOps } from "../../src/verify/tlog_ops.ts";
import { testsvcSpec } from "../../world/tlog_fixture.ts";

const [mode, dir = "", ...rest] = Deno.args;
if (mode === "cas") {
  const ops = httpTlogOps({ baseUrl: "http://127.0.0.1:9/tlog", dir, name: "localhost" });
  const count = Number(rest[0]);
  let conflicts = 0;
  for (let i = 0; i < count; i++) {
    for (;;) {
      const old = await ops.readConfig("counter");
      const n = old.length === 0 ? 0 : Number(new TextDecoder().decode(old));
      if (await ops.writeConfig("counter", old, new TextEncoder().encode(String(n + 1)))) break;
      conflicts++;
    }
  }
  console.log(`ok ${conflicts}`);
} else if (mode === "lookups") {
  const [url = "", key = "", count = "0", version = ""] = rest;
  const latest = join(dir, "gobuildverifiercache", "localhost", "config", "localhost", "latest");
  const lookups = join(dir, "gobuildverifiercache", "localhost", "cache", "localhost", "lookup");
  const storedSize = async () =>
    Number((await Deno.readTextFile(latest).catch(() => "\n0\n")).split("\n")[1]);
  const client = new TlogClient(key, {
    ops: httpTlogOps({ baseUrl: url, dir, name: "localhost" }),
  });
  let seen = 0;
  let stored = 0;
  for (let i = 0; i < Number(count); i++) {
    const key = "example.com/testsvc@" + version + "/cmd/testsvc/linux-amd64-go1.23.5-stripped";
    await Deno.remove(join(lookups, key)).catch(() => {});
    const got = await client.lookup(testsvcSpec(version));
    seen = Math.max(seen, got.tree.size);
    const now = await storedSize();
    if (now < stored) throw new Error(`stored tree went back from ${stored} to ${now}`);
    stored = now;
  }
  console.log(`ok ${seen}`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
