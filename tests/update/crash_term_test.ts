/**
 * The crash matrix with SIGTERM (systemctl stop, a deploy): ysco is stopped at each
 * phase of the update transaction and started again.
 */

import { crashAt } from "./_crash.ts";

Deno.test("SIGTERM at each phase of a good update: the restarted ysco ends with it installed", async (t) => {
  // Before the switch: cancelled by the stop (never switched), done again after.
  for (const point of ["downloaded", "switched"]) {
    await t.step(point, () => crashAt(point, "SIGTERM", "good", ["cancelled", "installed"]));
  }
  // After it: left unconfirmed by the stop, watched again and confirmed.
  for (const point of ["started", "watching"]) {
    await t.step(point, () => crashAt(point, "SIGTERM", "good", ["installed"]));
  }
});

Deno.test("SIGTERM at each phase of a failing update: the restarted ysco ends rolled back and paused", async (t) => {
  for (const point of ["started", "rolling-back"]) {
    await t.step(point, () => crashAt(point, "SIGTERM", "bad", ["rolled back"]));
  }
});
