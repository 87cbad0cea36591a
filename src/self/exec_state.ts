/**
 * What a ysco that replaces itself hands to the new program (in the environment,
 * across execve), and the answer the new program writes on a handed-over request.
 *
 * @module
 */

import { errorMessage } from "../errors.ts";
import type { ListenSocket } from "../supervise/listen_sockets.ts";

/** The environment variable carrying ExecState to the new process. */
export const EXEC_ENV = "_YSCO_EXEC";

/** What a ysco replacing itself hands to the new program. */
export interface ExecState {
  /** The service process, still a child of the same pid. */
  pid: number;
  /** When it was started (ms since the epoch). */
  started: number;
  oldVersion: string;
  newVersion: string;
  /** The new binary, to which the new process points the ysco symlink once it is up. */
  newBinary: string;
  /** A descriptor of the HTTP connection that asked for the update (0: none). */
  requestFd: number;
  /** Answer that request with a redirect to the page (a form) instead of plain text (the API). */
  redirect: boolean;
  /**
   * The listening sockets ysco holds for the service, inherited across the exec
   * (absent from a ysco without process.listen support).
   */
  listen?: ListenSocket[];
}

/** Reads and removes the exec state from the environment; undefined after a normal start. */
export function takeExecState(): ExecState | undefined {
  const text = Deno.env.get(EXEC_ENV);
  if (text === undefined) return undefined;
  Deno.env.delete(EXEC_ENV);
  try {
    const s = JSON.parse(text) as ExecState;
    if (
      typeof s.pid !== "number" || typeof s.started !== "number" ||
      typeof s.newBinary !== "string" || !(s.listen === undefined || isSocketList(s.listen))
    ) {
      throw new Error("missing fields");
    }
    return s;
  } catch (err) {
    throw new Error(
      `Cannot read ${EXEC_ENV} from the ysco that replaced itself: ${errorMessage(err)}`,
    );
  }
}

function isSocketList(v: unknown): boolean {
  return Array.isArray(v) &&
    v.every((s: unknown) =>
      typeof s === "object" && s !== null && "fd" in s && typeof s.fd === "number" &&
      "name" in s && typeof s.name === "string" && "address" in s && typeof s.address === "string"
    );
}

/** The raw HTTP/1.1 answer the new process writes on the handed-over connection. */
export function execAnswer(state: ExecState): string {
  const body = `updated self from ${state.oldVersion} to ${state.newVersion}\n`;
  const head = state.redirect ? "HTTP/1.1 303 See Other\r\nLocation: /\r\n" : "HTTP/1.1 200 OK\r\n";
  return `${head}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${
    new TextEncoder().encode(body).length
  }\r\nConnection: close\r\n\r\n${body}`;
}
