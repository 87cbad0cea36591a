/**
 * Error answers of the web interfaces, in the original's format: the status, text
 * and a message, `<code> - <status text> - <message>\n` as text/plain. Handlers
 * throw Hono's HTTPException (through `fail`); the app's error handler turns it into
 * the answer and logs it (5xx at error level, others at debug).
 *
 * @module
 */

import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
};

/**
 * Ends the request with an error answer.
 * @throws HTTPException always
 */
export function fail(status: ContentfulStatusCode, message: string): never {
  throw new HTTPException(status, { message });
}

/** An error answer with extra headers. */
export function errorResponse(
  status: ContentfulStatusCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(`${status} - ${STATUS_TEXT[status] ?? "Error"} - ${message}\n`, {
    status,
    headers: {
      "Content-Type": "text/plain; charset=utf-8",
      "Cache-Control": "no-store",
      ...headers,
    },
  });
}

/** The app's error handler: HTTPExceptions as their answers, anything else as a 500. */
export function errorHandler(log: Logger): ErrorHandler {
  return (err, c) => {
    // A refused or concurrent update request is the client's to fix: 400.
    const refused = err.name === "UpdateRefusedError" || err.name === "UpdateBusyError";
    const status: ContentfulStatusCode = err instanceof HTTPException
      ? err.status as ContentfulStatusCode
      : refused
      ? 400
      : 500;
    const message = errorMessage(err) || (STATUS_TEXT[status] ?? "error");
    const fields = { code: status, err: message, method: c.req.method, path: c.req.path };
    if (status >= 500) log.error("http server error", fields);
    else log.debug("http server error", fields);
    // Answers made by Hono's middleware (basicAuth, bodyLimit) come as they are.
    if (err instanceof HTTPException && err.res !== undefined) return err.getResponse();
    return errorResponse(status, errorMessage(err));
  };
}

/** 404 for unknown paths. */
export const notFound: NotFoundHandler = (): Response => errorResponse(404, "not found");

/** 405 with Allow, for Hono's methodNotAllowed middleware. */
export function methodNotAllowed(_c: Context, methods: string[]): Response {
  const allow = methods.join(", ");
  return errorResponse(405, `method not allowed (allowed: ${allow})`, { Allow: allow });
}
