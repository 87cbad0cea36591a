/**
 * Response headers of every answer: the security headers (Hono's secureHeaders,
 * configured for a page that runs no script and may not be framed), and the
 * length of a HEAD answer (what GET would send).
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * The Content-Security-Policy: nothing but the page's own style sheet and icon;
 * forms post only to the page; no framing. The page has no script at all.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'none'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/** The security headers on every answer. */
export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    xContentTypeOptions: "nosniff",
    // Plain HTTP: a TLS proxy in front sets HSTS for its own name.
    strictTransportSecurity: false,
  });
}

/**
 * A HEAD answer with the Content-Length of the GET answer (Hono runs GET for HEAD
 * and drops the body; the server would otherwise say 0). The pages are small.
 */
export function headLength(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.req.method !== "HEAD" || c.res.body === null) return;
    if (c.res.headers.has("content-length")) return;
    const length = (await c.res.clone().arrayBuffer()).byteLength;
    c.res.headers.set("Content-Length", String(length));
  };
}
