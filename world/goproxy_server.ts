/**
 * A real HTTP Go module proxy on 127.0.0.1 serving a proxy directory (see
 * goProxyDir() in _go.ts) plus extra files, with knobs for misbehaviour: status 500,
 * garbage, an oversize answer, and never answering. `await using` stops it.
 *
 * @module
 */

import { join, normalize } from "node:path";

/** How the server answers. */
export type ProxyMode = "ok" | "500" | "garbage" | "oversize" | "slow";

/** Options for startGoProxy. */
export interface GoProxyServerOptions {
  /** A proxy directory, e.g. from goProxyDir(). */
  dir?: string;
  /** Extra files by path below the base, e.g. "golang.org/toolchain/@v/list". */
  files?: Record<string, string>;
  /** Path prefix the proxy lives under. @default "/" */
  prefix?: string;
}

/** A running proxy. */
export interface GoProxyServer extends AsyncDisposable {
  /** Base URL with the prefix and a trailing "/", for monitor.goproxy. */
  url: string;
  /** How it answers now; change it at any time. */
  mode: ProxyMode;
  /** Answers by path (below the prefix) that override mode for those paths. */
  modes: Map<string, ProxyMode>;
  /** Paths requested (below the prefix), in order. */
  requests: string[];
  /** Extra files, changeable at any time. */
  files: Record<string, string>;
}

/** Starts the proxy on a random port. */
export function startGoProxy(options: GoProxyServerOptions = {}): GoProxyServer {
  const prefix = options.prefix ?? "/";
  const releases = new Set<() => void>();
  const state = {
    mode: "ok" as ProxyMode,
    modes: new Map<string, ProxyMode>(),
    requests: [] as string[],
    files: { ...options.files },
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const path = decodeURIComponent(new URL(req.url).pathname);
      if (!path.startsWith(prefix)) return new Response("not found\n", { status: 404 });
      const rel = path.slice(prefix.length);
      state.requests.push(rel);
      switch (state.modes.get(rel) ?? state.mode) {
        case "500":
          return new Response("proxy is having a bad day\n", { status: 500 });
        case "garbage":
          return new Response("<html><body>Welcome to our portal!</body></html>\n");
        case "oversize":
          return new Response(oversizeBody());
        case "slow":
          await new Promise<void>((resolve) => {
            const release = () => {
              releases.delete(release);
              resolve();
            };
            // Held until the server stops (the client gives up long before).
            releases.add(release);
          });
          return new Response("too late\n");
        case "ok":
          return await serveFile(rel, state.files, options.dir);
      }
    },
  );
  return Object.assign(state, {
    url: `http://127.0.0.1:${server.addr.port}${prefix.endsWith("/") ? prefix : prefix + "/"}`,
    async [Symbol.asyncDispose]() {
      for (const release of [...releases]) release();
      await server.shutdown();
    },
  });
}

async function serveFile(
  rel: string,
  files: Record<string, string>,
  dir: string | undefined,
): Promise<Response> {
  const extra = files[rel];
  if (extra !== undefined) return new Response(extra);
  if (dir === undefined || rel.split("/").includes("..")) {
    return new Response("not found\n", { status: 404 });
  }
  try {
    return new Response(await Deno.readFile(join(dir, normalize(rel))));
  } catch {
    // The real proxy answers 404 or 410 for unknown modules and versions.
    return new Response(`not found: ${rel}\n`, { status: 404 });
  }
}

/** 2 MiB of valid-looking version lines, in chunks. */
function oversizeBody(): ReadableStream<Uint8Array> {
  const line = new TextEncoder().encode("v1.0.0\n".repeat(1024));
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= 2 << 20) return controller.close();
      controller.enqueue(line);
      sent += line.length;
    },
  });
}
