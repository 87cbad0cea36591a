/**
 * A small FleetLock protocol server for tests, on 127.0.0.1: a counting semaphore per
 * group with recursive, owned locks, as the protocol document describes (and airlock
 * implements). It checks the `fleet-lock-protocol: true` header and the body, answers
 * errors as `{"kind","value"}`, and records every operation in order.
 *
 * @module
 */

/** One operation the server handled. */
export interface FleetLockOp {
  op: "lock" | "unlock";
  id: string;
  group: string;
  /** The HTTP status answered. */
  status: number;
  /** Holders of the group after the operation. */
  holders: string[];
}

/** A running test server. */
export interface FleetLockServer extends AsyncDisposable {
  url: string;
  /** Every request, in order (including refused ones). */
  log: FleetLockOp[];
  /** Requests refused for a missing or wrong header. */
  badRequests: number;
  /** Holders per group. */
  holders: Map<string, Set<string>>;
  /** Slots per group. */
  max: number;
}

/** Starts a server with `max` slots per group. */
export function startFleetLockServer(max: number): FleetLockServer {
  const holders = new Map<string, Set<string>>();
  const log: FleetLockOp[] = [];
  const state = { badRequests: 0 };
  const error = (status: number, kind: string, value: string) =>
    Response.json({ kind, value }, { status });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname.replace(/^\/fleet/, "");
    const op = path === "/v1/pre-reboot" ? "lock" : path === "/v1/steady-state" ? "unlock" : "";
    if (op === "") return error(404, "not_found", `no endpoint ${path}`);
    if (req.method !== "POST") return error(405, "method_not_allowed", "use POST");
    if (req.headers.get("fleet-lock-protocol") !== "true") {
      state.badRequests++;
      return error(400, "missing_header", "fleet-lock-protocol header must be true");
    }
    let id = "";
    let group = "";
    try {
      const body = await req.json();
      id = String(body?.client_params?.id ?? "");
      group = String(body?.client_params?.group ?? "");
    } catch {
      return error(400, "bad_body", "body is not JSON");
    }
    if (id === "" || !/^[a-zA-Z0-9.-]+$/.test(group)) {
      return error(400, "bad_client_params", "client_params needs an id and a valid group");
    }
    const set = holders.get(group) ?? new Set<string>();
    holders.set(group, set);
    let status = 200;
    let res: Response = new Response(null, { status: 200 });
    if (op === "lock") {
      if (!set.has(id)) {
        if (set.size >= max) {
          status = 409;
          res = error(
            409,
            "failed_lock_semaphore_full",
            "semaphore currently full, all slots are locked already",
          );
        } else set.add(id);
      }
    } else set.delete(id);
    log.push({ op, id, group, status, holders: [...set] });
    return res;
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}/fleet`,
    log,
    get badRequests() {
      return state.badRequests;
    },
    holders,
    max,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
