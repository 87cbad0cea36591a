/**
 * The admin password: HTTP basic authentication (Hono's basicAuth, user "admin")
 * behind the brute-force limit of login_limiter.ts. Failed logins are counted
 * (`ysco_admin_auth_failures_total`) and logged at warn level, at most one line per
 * client and minute. Answers behind the password are never cached.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { basicAuth } from "hono/basic-auth";
import { HTTPException } from "hono/http-exception";
import { timingSafeEqual } from "hono/utils/buffer";
import type { Logger } from "../log.ts";
import type { Counter } from "../metrics/registry.ts";
import { errorResponse } from "./http_error.ts";
import { clientKey, type LoginLimiter } from "./login_limiter.ts";
import { remoteAddrOf } from "./server.ts";

/** What the authentication works with. */
export interface AuthOptions {
  /** The current admin password. */
  password: () => string;
  limiter: LoginLimiter;
  failures: Counter;
  log: Logger;
  now: () => number;
}

/** Shortest time between two warnings about the same client, ms. */
const WARN_INTERVAL_MS = 60_000;

/** The middleware that lets only the admin through. */
export function adminAuth(o: AuthOptions): MiddlewareHandler {
  const warned = new Map<string, number>();
  const basic = basicAuth({
    realm: "ysco",
    invalidUserMessage: "401 - Unauthorized - bad/missing credentials\n",
    verifyUser: async (username, password, c) => {
      const client = clientAddress(c);
      // Both compared, always: the time taken does not tell which was wrong.
      const [user, pass] = await Promise.all([
        timingSafeEqual(username, "admin"),
        timingSafeEqual(password, o.password()),
      ]);
      if (user && pass) {
        o.limiter.succeeded(client);
        return true;
      }
      const now = o.now();
      const delay = o.limiter.failed(client, now);
      o.failures.inc();
      const key = clientKey(client);
      const fields = {
        client,
        user: username,
        failures: o.limiter.failures(client, now),
        wait: delay > 0 ? `${Math.ceil(delay / 1000)}s` : undefined,
      };
      if (now - (warned.get(key) ?? -Infinity) >= WARN_INTERVAL_MS) {
        warned.delete(key);
        warned.set(key, now);
        if (warned.size > 1000) warned.delete(warned.keys().next().value ?? "");
        o.log.warn("failed admin login", fields);
      } else {
        o.log.debug("failed admin login", fields);
      }
      return false;
    },
  });
  return async (c, next) => {
    const client = clientAddress(c);
    const wait = o.limiter.wait(client, o.now());
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new HTTPException(429, {
        res: errorResponse(
          429,
          `too many failed logins from ${client || "this address"}; try again in ${seconds}s`,
          { "Retry-After": String(seconds) },
        ),
      });
    }
    try {
      await basic(c, next);
    } catch (err) {
      if (err instanceof HTTPException && err.res !== undefined) {
        err.res.headers.set("Content-Type", "text/plain; charset=utf-8");
        err.res.headers.set("Cache-Control", "no-store");
        // This failure may have started a wait: say how long.
        const after = o.limiter.wait(client, o.now());
        if (after > 0) err.res.headers.set("Retry-After", String(Math.ceil(after / 1000)));
      }
      throw err;
    }
    c.header("Cache-Control", "no-store");
  };
}

/** The client's address ("" when unknown, e.g. in-process requests without one). */
function clientAddress(c: Context): string {
  return remoteAddrOf(c.env)?.hostname ?? "";
}
