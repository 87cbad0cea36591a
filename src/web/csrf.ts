/**
 * Cross-site request forgery: a browser logged in to the admin page must not be
 * made to change anything by another site. Every state-changing request passes
 * `sameSiteOnly`: refused when Sec-Fetch-Site, Origin or Referer names another
 * site; accepted when none is present (curl, scripts: no browser, no forgery). The
 * page's forms also carry a token (CsrfTokens) that another site cannot read.
 *
 * Hono's csrf middleware is not used: it refuses requests that carry neither
 * Origin nor Sec-Fetch-Site (scripts), and it does not look at Referer.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { fail } from "./http_error.ts";

const encoder = new TextEncoder();

/**
 * Why a request must be refused as cross-site, or undefined when it may go on.
 * With Referrer-Policy no-referrer (as the page sets), a browser sends `Origin: null`
 * for the page's own forms, next to `Sec-Fetch-Site: same-origin`.
 */
export function crossSiteProblem(req: Request): string | undefined {
  const host = req.headers.get("host");
  const site = req.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    return `the browser says it comes from another site (Sec-Fetch-Site: ${site})`;
  }
  const origin = req.headers.get("origin");
  if (origin !== null && !(origin === "null" ? site === "same-origin" : sameHost(origin, host))) {
    return `Origin ${origin} is not this site`;
  }
  const referer = req.headers.get("referer");
  if (referer !== null && !sameHost(referer, host)) return `Referer ${referer} is not this site`;
  return undefined;
}

function sameHost(url: string, host: string | null): boolean {
  try {
    return host !== null && new URL(url).host === host;
  } catch {
    return false;
  }
}

/** Refuses cross-site requests with 403. */
export function sameSiteOnly(): MiddlewareHandler {
  return async (c, next) => {
    const problem = crossSiteProblem(c.req.raw);
    if (problem !== undefined) fail(403, `cross-site request refused: ${problem}`);
    await next();
  };
}

/** The token forms carry: an HMAC of a secret that lives as long as the process. */
export class CsrfTokens {
  #key: Promise<CryptoKey>;

  constructor() {
    this.#key = crypto.subtle.importKey(
      "raw",
      crypto.getRandomValues(new Uint8Array(32)),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
  }

  /** The token for forms. */
  async token(): Promise<string> {
    const mac = await crypto.subtle.sign("HMAC", await this.#key, encoder.encode("ysco admin"));
    return btoa(String.fromCharCode(...new Uint8Array(mac)))
      .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  }

  /** Whether a submitted token is the right one (compared in constant time). */
  async verify(token: string | undefined): Promise<boolean> {
    if (token === undefined) return false;
    const want = encoder.encode(await this.token());
    const got = encoder.encode(token);
    let diff = want.length ^ got.length;
    for (let i = 0; i < want.length; i++) diff |= (want[i] ?? 0) ^ (got[i] ?? 0);
    return diff === 0;
  }
}
