/**
 * `ysco licenses` and its generated data: up to date with deno.lock and the module
 * graph, and printed in full.
 */

import {
  bundledPackages,
  collectLicenses,
  LICENSES_FILE,
  renderLicensesFile,
} from "../../scripts/licenses.ts";
import { assert, assertEquals } from "../_assert.ts";
import { ysco } from "../../world/util.ts";

Deno.test("src/cli/licenses_data.ts is what scripts/licenses.ts makes from deno.lock now", async () => {
  const want = await renderLicensesFile(await collectLicenses());
  const have = await Deno.readTextFile(LICENSES_FILE);
  assert(
    have === want,
    "src/cli/licenses_data.ts is out of date: run deno run -A scripts/licenses.ts",
  );
});

Deno.test("the bundled packages are those main.ts imports and their dependencies", async () => {
  const packages = await bundledPackages();
  for (
    const id of [
      "hono@",
      "smol-toml@",
      "dns-packet@",
      "@leichtgewicht/ip-codec@",
      "@noble/ed25519@",
    ]
  ) {
    assert(packages.some((p) => p.startsWith(id)), `${id} in ${packages.join(" ")}`);
  }
  // Test-only and type-only packages are not bundled.
  for (const id of ["playwright-core@", "@types/dns-packet@", "@types/node@"]) {
    assert(!packages.some((p) => p.startsWith(id)), `${id} in ${packages.join(" ")}`);
  }
});

Deno.test("ysco licenses prints ysco's license and every bundled package's under a header", async () => {
  const out = await ysco(["licenses"]);
  assertEquals([out.code, out.stderr], [0, ""]);
  const headers = [...out.stdout.matchAll(/^# (\S+)(?: (\S+))? \(([^)]+)\)$/gm)].map((m) =>
    m[2] ? `${m[1]}@${m[2]}` : m[1]
  );
  assertEquals(headers.slice(0, 2), ["ysco", `deno@${Deno.version.deno}`]);
  assertEquals(headers.slice(2), await bundledPackages());
  assert(
    out.stdout.startsWith("# ysco (MIT)\n\nMIT License\n\nCopyright (c) "),
    out.stdout.slice(0, 80),
  );
  const licenseFile = await Deno.readTextFile(new URL("../../LICENSE", import.meta.url));
  assert(out.stdout.includes(licenseFile), "ysco's LICENSE in full");
});
