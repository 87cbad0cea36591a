/**
 * The admin web interface and API (Hono): the status page and its forms, `/json`,
 * `POST /update`, the webhooks `/notify` and `/notifytoolchain`, the public
 * `/service-version[.json]`, and `/metrics`. Routes follow the original with its
 * bugs fixed: `latest` picks the newest release, `current` works for the Go version,
 * pages do no live lookups, and `/json` carries no config text.
 *
 * Every answer carries the security headers; the admin routes check the password
 * (with a brute-force limit) before they read any of the body, whose size is
 * limited; state-changing requests must not come from another site. What the
 * password grants, and what it does not: docs/security.md.
 *
 * @module
 */

import { Hono } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import { passwordWarning } from "../config/load.ts";
import { Counter, type Registry } from "../metrics/registry.ts";
import { ADMIN_AUTH_FAILURES } from "../metrics/ysco_metrics.ts";
import type { AdminDeps } from "./actions.ts";
import { adminState } from "./admin_state.ts";
import { adminAuth } from "./auth.ts";
import { ADMIN_BODY_LIMIT, limitBody } from "./form.ts";
import { headLength, securityHeaders } from "./headers.ts";
import * as httpError from "./http_error.ts";
import { LoginLimiter } from "./login_limiter.ts";
import { formRoutes } from "./routes/forms.ts";
import { metricsResponse, publicRoutes } from "./routes/public.ts";
import { statusRoutes } from "./routes/status.ts";
import { updateApiRoutes } from "./routes/update_api.ts";

export type { AdminActions, AdminDeps, AdminFleet } from "./actions.ts";
export { statusJson } from "./status_json.ts";

/** The paths behind the password. */
export const ADMIN_PATHS = ["/", "/json", "/update"] as const;

/** Creates the admin app (admin routes, and `/metrics` when serveMetrics). */
export function createAdminApp(deps: AdminDeps): Hono {
  const a = adminState(deps);
  const app = new Hono();
  app.use(securityHeaders(), headLength());
  app.use(methodNotAllowed({ app, onMethodNotAllowed: httpError.methodNotAllowed }));
  app.route(
    "/",
    publicRoutes({
      actions: deps.actions,
      log: deps.log,
      registry: deps.registry,
      serveMetrics: deps.serveMetrics,
      notifyIntervalMs: deps.notifyIntervalMs ?? 10_000,
      now: a.now,
    }),
  );
  const auth = adminAuth({
    password: () => a.password.current,
    limiter: new LoginLimiter(deps.loginLimits),
    failures: deps.authFailures ?? new Counter(ADMIN_AUTH_FAILURES.name, ADMIN_AUTH_FAILURES.help),
    log: deps.log,
    now: a.now,
  });
  for (const path of ADMIN_PATHS) app.use(path, auth, limitBody(ADMIN_BODY_LIMIT));
  app.route("/", statusRoutes(a));
  app.route("/", formRoutes(a));
  app.route("/", updateApiRoutes(a));
  app.notFound(httpError.notFound);
  app.onError(httpError.errorHandler(deps.log));
  const weak = passwordWarning(deps.password);
  if (weak !== undefined) deps.log.warn(weak);
  return app;
}

/** The metrics-only app for `-metricsaddr`: `/metrics`, and `/` redirecting to it. */
export function createMetricsApp(registry: Registry): Hono {
  const app = new Hono();
  app.use(securityHeaders(), headLength());
  app.get("/metrics", () => metricsResponse(registry));
  app.get("/", (c) => c.redirect("/metrics", 302));
  app.notFound(httpError.notFound);
  return app;
}
