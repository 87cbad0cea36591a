/**
 * The routes without the password: the service's version for monitoring and load
 * balancers, the gopherwatch webhooks (at most one check per interval), the icon
 * and style sheet of the page, and `/metrics` when it shares the admin address.
 *
 * @module
 */

import { Hono } from "hono";
import type { Logger } from "../../log.ts";
import type { Registry } from "../../metrics/registry.ts";
import type { AdminActions } from "../actions.ts";
import { limitBody, WEBHOOK_BODY_LIMIT } from "../form.ts";
import { STYLE_CSS } from "../page/style.ts";

/** What the public routes work with. */
export interface PublicOptions {
  actions: AdminActions;
  log: Logger;
  registry: Registry;
  serveMetrics: boolean;
  /** Shortest time between two checks started by webhooks, ms. */
  notifyIntervalMs: number;
  now: () => number;
}

/** The public routes. */
export function publicRoutes(o: PublicOptions): Hono {
  const app = new Hono();
  const { actions } = o;
  let lastNotify = -Infinity;

  app.get("/service-version", (c) => {
    const s = actions.status().svc;
    return c.text(`${s.path} ${s.version} ${s.goVersion} ${s.goos} ${s.goarch}\n`);
  });
  app.get("/service-version.json", (c) => {
    const s = actions.status().svc;
    const body = {
      arch: s.goarch,
      goversion: s.goVersion,
      module: s.modPath,
      os: s.goos,
      package: s.path,
      version: s.version,
    };
    return c.body(JSON.stringify(body, null, "\t") + "\n", 200, {
      "Content-Type": "application/json; charset=utf-8",
    });
  });

  // Webhooks (gopherwatch): body ignored; at most one check per interval.
  for (const path of ["/notify", "/notifytoolchain"]) {
    app.post(path, limitBody(WEBHOOK_BODY_LIMIT), (c) => {
      const policy = actions.status().config.policy;
      const manual = path === "/notify"
        ? policy.service === "manual" && policy.self === "manual"
        : policy.service_toolchain === "manual" && policy.self_toolchain === "manual";
      o.log.debug(
        path === "/notify" ? "notification for module update" : "notification for toolchain update",
      );
      if (!manual && o.now() - lastNotify >= o.notifyIntervalMs) {
        lastNotify = o.now();
        actions.notify();
      }
      return c.text("ok\n");
    });
  }

  app.get("/favicon.ico", (c) =>
    c.body(FAVICON, 200, {
      "Content-Type": "image/svg+xml",
      "Cache-Control": "max-age=86400",
    }));
  app.get("/style.css", (c) =>
    c.body(STYLE_CSS, 200, {
      "Content-Type": "text/css; charset=utf-8",
      "Cache-Control": "max-age=3600",
    }));

  if (o.serveMetrics) app.get("/metrics", () => metricsResponse(o.registry));
  return app;
}

/** The metrics in Prometheus' text format. */
export function metricsResponse(registry: Registry): Response {
  return new Response(registry.render(), {
    headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" },
  });
}

const FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">' +
  '<circle cx="8" cy="8" r="7" fill="#2a7"/><path d="M5 8.5l2 2 4-5" stroke="#fff" stroke-width="2" fill="none"/></svg>';
