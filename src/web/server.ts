/**
 * The HTTP server of the admin and metrics interfaces, with the limits an exposed
 * server needs: a deadline for a request's headers and for its whole body, an idle
 * timeout for kept-alive connections, a cap on connections and on header size, and
 * a connection closed when its request body is left unread (a refused upload).
 *
 * Deno.serve (Deno 2.9) has none of these timeouts and no per-connection control:
 * a test held raw connections that sent nothing, half a request line or half a body
 * open for over 100 s. Deno's `node:http` implements Node's headersTimeout,
 * requestTimeout, keepAliveTimeout and maxConnections on the same sockets, so the
 * server is that, with a small adapter to the fetch-style handler (Hono's
 * `app.fetch`). See docs/security.md.
 *
 * @module
 */

import http from "node:http";

/** The connection a request came on, as Hono's Deno adapter reads it (`c.env.remoteAddr`). */
export interface ConnInfo {
  remoteAddr: Deno.NetAddr;
}

/** The client's address from a handler's second argument (Hono's `c.env`), when there is one. */
export function remoteAddrOf(env: unknown): Deno.NetAddr | undefined {
  if (typeof env !== "object" || env === null || !("remoteAddr" in env)) return undefined;
  const addr: unknown = env.remoteAddr;
  return typeof addr === "object" && addr !== null && "hostname" in addr &&
      typeof addr.hostname === "string" && "port" in addr && typeof addr.port === "number"
    ? { transport: "tcp", hostname: addr.hostname, port: addr.port }
    : undefined;
}

/** A fetch-style handler. */
export type WebHandler = (request: Request, info: ConnInfo) => Response | Promise<Response>;

/** Limits of the server, in milliseconds and counts. */
export interface WebLimits {
  /** Time from a connection's first byte (or a kept-alive connection's next) to the end of a request's headers. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body; the answer may take longer. */
  requestTimeoutMs: number;
  /** How long a kept-alive connection may wait for its next request. */
  idleTimeoutMs: number;
  /** Connections open at once; more are closed at once. */
  maxConnections: number;
  /** Bytes of a request's line and headers. */
  maxHeaderBytes: number;
}

/** The limits of ysco's web servers. */
export const WEB_LIMITS: WebLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 15_000,
  maxConnections: 512,
  maxHeaderBytes: 16 * 1024,
};

/** How long a shutdown waits for requests in progress, ms. */
const SHUTDOWN_GRACE_MS = 2000;

/** Options for serveWeb. */
export interface WebServerOptions {
  /** Address to listen on ("0.0.0.0", "::", "127.0.0.1", a name). */
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** Called with the address once listening. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Called when the handler throws; the client gets a 500. */
  onError?: (err: unknown) => void;
  /** @default WEB_LIMITS */
  limits?: Partial<WebLimits>;
  /** How often the timeouts are checked. @default 1000 */
  checkIntervalMs?: number;
}

/** A running server. */
export interface WebServer extends AsyncDisposable {
  addr: Deno.NetAddr;
  /** Stops accepting connections, closes idle ones, and gives requests in progress 2 s. */
  shutdown(): Promise<void>;
}

/**
 * Listens and serves requests with the handler.
 * @throws Error when the address cannot be listened on (in use, not local)
 */
export async function serveWeb(
  options: WebServerOptions,
  handler: WebHandler,
): Promise<WebServer> {
  const limits = { ...WEB_LIMITS, ...options.limits };
  const server = http.createServer(
    {
      // Node requires headers within the request's deadline.
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.idleTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: options.checkIntervalMs ?? 1000,
    },
    (req, res) => {
      respond(req, res, handler, options.onError).catch((err) => {
        options.onError?.(err);
        res.destroy();
      });
    },
  );
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.hostname, port: options.port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  const addr: Deno.NetAddr = {
    transport: "tcp",
    hostname: typeof bound === "object" && bound !== null ? bound.address : options.hostname,
    port: typeof bound === "object" && bound !== null ? bound.port : options.port,
  };
  options.onListen?.(addr);
  let closed: Promise<void> | undefined;
  const shutdown = () => {
    closed ??= new Promise<void>((resolve) => {
      // Once closed, Deno's node:http no longer times connections out, and it does not
      // count every finished one as idle: whatever is left goes after a grace period.
      const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closed;
  };
  return { addr, shutdown, [Symbol.asyncDispose]: shutdown };
}

/** Turns a node request into a fetch Request, runs the handler and writes its Response. */
async function respond(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  handler: WebHandler,
  onError: ((err: unknown) => void) | undefined,
): Promise<void> {
  const method = req.method ?? "GET";
  const abort = new AbortController();
  res.once("close", () => abort.abort());
  // An answer that leaves the request body unread ends the connection: reading an
  // unwanted (maybe endless) body to reuse it would be the client's choice, not ours.
  res.once("finish", () => {
    if (!req.complete) req.socket.destroy();
  });
  let response: Response;
  try {
    response = await handler(toRequest(req, method, abort.signal), {
      remoteAddr: {
        transport: "tcp",
        hostname: unmapIPv4(req.socket.remoteAddress ?? ""),
        port: req.socket.remotePort ?? 0,
      },
    });
  } catch (err) {
    if (err instanceof BadRequest) {
      response = new Response(`400 - Bad Request - ${err.message}\n`, { status: 400 });
    } else {
      onError?.(err);
      response = new Response("500 - Internal Server Error\n", { status: 500 });
    }
  }
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  if (!req.complete) res.setHeader("connection", "close");
  if (response.body === null || method === "HEAD") {
    await response.body?.cancel();
    res.end();
    return;
  }
  // Answers are small (the page, metrics): sent whole, with their length. (Deno's
  // node:http, 2.9, keeps a kept-alive connection busy forever after a response
  // written in pieces: neither its idle timeout nor a shutdown closes it.)
  const body = new Uint8Array(await response.arrayBuffer());
  res.setHeader("content-length", body.length);
  res.end(body);
}

/** A request the adapter cannot turn into a fetch Request. */
class BadRequest extends Error {}

function toRequest(req: http.IncomingMessage, method: string, signal: AbortSignal): Request {
  let url: URL;
  try {
    url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
  } catch (err) {
    throw new BadRequest(`cannot parse the request target or Host header`, { cause: err });
  }
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    try {
      headers.append(req.rawHeaders[i] ?? "", req.rawHeaders[i + 1] ?? "");
    } catch (err) {
      throw new BadRequest(`invalid header "${req.rawHeaders[i]}"`, { cause: err });
    }
  }
  const hasBody = method !== "GET" && method !== "HEAD";
  // Pulled only as the handler reads it: an unread body is never buffered beyond
  // the socket's own buffers.
  const body = hasBody ? ReadableStream.from<Uint8Array>(req) : null;
  return new Request(url, { method, headers, body, signal, ...(body ? { duplex: "half" } : {}) });
}

/** "::ffff:127.0.0.1" (an IPv4 client on a dual-stack socket) as "127.0.0.1". */
function unmapIPv4(address: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}
