/**
 * The crash matrix with kill -9: ysco (and the service's process group, or not) is
 * killed at each phase of the update transaction and started again.
 */

import { crashAt } from "./_crash.ts";

const BOTH = "kill -9 ysco and the service";

Deno.test("kill -9 at each phase of a good update: the restarted ysco ends with it installed", async (t) => {
  // Before the switch the interrupted update ends as cancelled and is done again.
  for (const point of ["downloaded", "switched"]) {
    await t.step(point, () => crashAt(point, BOTH, "good", ["cancelled", "installed"]));
  }
  // After it, the new version is watched again and confirmed.
  for (const point of ["started", "watching"]) {
    await t.step(point, () => crashAt(point, BOTH, "good", ["installed"]));
  }
});

Deno.test("kill -9 at each phase of a failing update: the restarted ysco ends rolled back and paused", async (t) => {
  for (const point of ["started", "rolling-back"]) {
    await t.step(point, () => crashAt(point, BOTH, "bad", ["rolled back"]));
  }
});

Deno.test("kill -9 of ysco alone: the restarted ysco stops the service it left, then runs exactly one", async () => {
  await crashAt("started", "kill -9 ysco only", "good", ["installed"]);
});
