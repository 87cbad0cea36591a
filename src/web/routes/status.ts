/**
 * `GET /`, the status page, and `GET /json`, the same status for scripts. Neither
 * looks anything up: they show the last check (the fleet group is read from etcd).
 *
 * @module
 */

import { Hono } from "hono";
import { passwordWarning } from "../../config/load.ts";
import type { AdminState } from "../admin_state.ts";
import { pendingRestart } from "../config_save.ts";
import { renderPage } from "../page/page.tsx";
import { statusJson } from "../status_json.ts";

/** The status routes. */
export function statusRoutes(a: AdminState): Hono {
  const app = new Hono();
  const { deps } = a;

  app.get("/", async (c) => {
    const status = deps.actions.status();
    if (status.busy) c.header("Refresh", "3");
    const group = await a.readFleetGroup();
    const weak = passwordWarning(a.password.current);
    return c.html(
      await renderPage({
        status,
        csrf: await a.csrf.token(),
        argv: deps.argv,
        configFile: a.configFile,
        configText: await Deno.readTextFile(a.configFile).catch(() => ""),
        yscoVersion: deps.yscoVersion,
        now: a.now(),
        pendingRestart: pendingRestart(a.started, status.config),
        warnings: weak === undefined ? [] : [weak],
        ...(group ? { fleetGroup: group } : {}),
      }),
    );
  });

  app.get(
    "/json",
    (c) => c.json(statusJson(deps.actions.status(), deps.argv, a.configFile, deps.yscoVersion)),
  );
  return app;
}
