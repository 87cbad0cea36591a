/**
 * `POST /update`: an update for scripts, with `which`, `version` and `goversion`
 * from the query or a form ("latest" and "current" allowed). It answers when the
 * update is done: 200 "ok" when installed, 500 with the reason otherwise; a
 * self-update is answered by the new process.
 *
 * @module
 */

import { Hono } from "hono";
import type { AdminState } from "../admin_state.ts";
import { sameSiteOnly } from "../csrf.ts";
import { readForm } from "../form.ts";
import { fail } from "../http_error.ts";
import { serviceTarget, updateSelf } from "../update_request.ts";

/** The update route. */
export function updateApiRoutes(a: AdminState): Hono {
  const app = new Hono();
  const { actions, log } = a.deps;

  app.post("/update", sameSiteOnly(), async (c) => {
    const form = await readForm(c);
    const query = c.req.query();
    const param = (k: string) => (form[k] ?? query[k] ?? "").trim();
    const which = param("which");
    const version = param("version");
    const goVersion = param("goversion");
    log.debug("update request", { which, version, goversion: goVersion });
    if (which === "self") {
      if (version === "") fail(400, "missing version");
      return await updateSelf(c, { actions, listenPort: a.deps.listenPort }, version, false);
    }
    if (version === "" || goVersion === "" || which !== "svc") {
      fail(400, "missing version or goversion or missing/invalid 'which'");
    }
    const target = await serviceTarget(actions, { version, goVersion }, true);
    await actions.cancelScheduled("svc");
    const result = await actions.update({ which: "svc", ...target, manual: true });
    if (result.outcome !== "installed") {
      fail(500, `updating: ${result.outcome}: ${result.reason ?? ""}`);
    }
    // Installed, but not recorded: the operation failed, the next start recovers it.
    if (result.stateError !== undefined) fail(500, `updating: installed, but ${result.stateError}`);
    return c.text("ok\n");
  });
  return app;
}
