/**
 * `POST /`: the page's forms, by their `command` field: check, pause, unpause,
 * cancel, update, fleetresume and saveconfig. Each answers 303 to the page when it
 * is done (an update goes on in the background; the page shows its progress), or
 * an error with what was wrong.
 *
 * @module
 */

import { Hono } from "hono";
import { errorMessage } from "../../errors.ts";
import type { AdminState } from "../admin_state.ts";
import { pendingRestart, saveConfig } from "../config_save.ts";
import { sameSiteOnly } from "../csrf.ts";
import { readForm } from "../form.ts";
import { fail } from "../http_error.ts";
import { serviceTarget, updateSelf } from "../update_request.ts";

/** The form route. */
export function formRoutes(a: AdminState): Hono {
  const app = new Hono();
  const { actions, log } = a.deps;

  app.post("/", sameSiteOnly(), async (c) => {
    const form = await readForm(c);
    if (!(await a.csrf.verify(form.csrf))) {
      fail(403, "form not from this page (missing or bad token); reload the page and try again");
    }
    const command = form.command ?? "";
    const version = form.version?.trim() ?? "";
    const goVersion = form.goversion?.trim() ?? "";
    switch (command) {
      case "check":
        try {
          await actions.check();
        } catch (err) {
          fail(500, `checking: ${errorMessage(err)}`);
        }
        break;
      case "pause":
        await actions.pause();
        break;
      case "unpause":
        await actions.unpause();
        break;
      case "cancel": {
        const which = form.which;
        if (which !== "svc" && which !== "self") fail(400, "missing/invalid which");
        await actions.cancelScheduled(which);
        break;
      }
      case "update": {
        if (form.which === "self" && version !== "") {
          return await updateSelf(c, { actions, listenPort: a.deps.listenPort }, version, true);
        }
        if (form.which !== "svc" || version === "" || goVersion === "") {
          fail(400, "missing/empty version or goversion or missing/invalid which");
        }
        const target = await serviceTarget(actions, { version, goVersion }, false);
        await actions.cancelScheduled("svc");
        // The page shows the progress; the update goes on after this answer.
        actions.update({ which: "svc", ...target, manual: true }).catch((err) =>
          log.error("update from the admin page", { err: errorMessage(err) })
        );
        break;
      }
      case "fleetresume": {
        const fleet = a.deps.fleet;
        if (fleet?.resume === undefined) fail(400, "no fleet coordination through etcd configured");
        if (version === "") fail(400, "missing version");
        const target = goVersion === "" ? version : `${version} ${goVersion}`;
        let removed;
        try {
          removed = await fleet.resume(target);
        } catch (err) {
          fail(500, `resuming ${target} in the fleet: ${errorMessage(err)}`);
        }
        if (removed.length === 0) fail(400, `no halt for ${target} in the fleet`);
        break;
      }
      case "saveconfig": {
        const loaded = await saveConfig(actions, a.configFile, form.config ?? "");
        a.password.current = loaded.password;
        const later = pendingRestart(a.started, loaded.config);
        if (later.length > 0) {
          log.info("configuration keys take effect at the next start of ysco", {
            keys: later.join(","),
          });
        }
        break;
      }
      default:
        fail(400, `unknown command "${command}"`);
    }
    return c.redirect("/", 303);
  });
  return app;
}
