/**
 * Protection of the admin interface: HTTP basic authentication compared in constant
 * time, and cross-site request forgery checks for state-changing requests (a token
 * in every form, and the browser's Origin and Sec-Fetch-Site headers).
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Checks an Authorization header for user "admin" with the password. The comparison
 * takes the same time wherever the first difference is.
 */
export async function checkBasicAuth(
  header: string | undefined,
  password: string,
): Promise<boolean> {
  if (header === undefined || !/^Basic /i.test(header)) return false;
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(
      Uint8Array.from(atob(header.slice(6).trim()), (c) => c.charCodeAt(0)),
    );
  } catch {
    return false;
  }
  const colon = decoded.indexOf(":");
  if (colon === -1) return false;
  const userOk = timingSafeEqual(await digest(decoded.slice(0, colon)), await digest("admin"));
  const passOk = timingSafeEqual(await digest(decoded.slice(colon + 1)), await digest(password));
  return userOk && passOk;
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
    const mac = await crypto.subtle.sign(
      "HMAC",
      await this.#key,
      encoder.encode("ysco admin form"),
    );
    return btoa(String.fromCharCode(...new Uint8Array(mac))).replaceAll("+", "-").replaceAll(
      "/",
      "_",
    ).replace(/=+$/, "");
  }

  /** Whether a submitted token is the right one (constant time). */
  async verify(token: string | undefined): Promise<boolean> {
    if (token === undefined) return false;
    return timingSafeEqual(await digest(token), await digest(await this.token()));
  }
}

/**
 * Whether a request may change state: a browser that says the request comes from
 * another site (Sec-Fetch-Site, Origin) is refused; tools like curl send neither.
 */
export function sameOrigin(req: Request): boolean {
  const site = req.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return false;
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  if (origin === "null") return false; // an opaque origin: a sandboxed frame or a data: page
  const host = req.headers.get("host");
  try {
    return host !== null && new URL(origin).host === host;
  } catch {
    return false;
  }
}

async function digest(s: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(s)));
}

function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
