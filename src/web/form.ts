/**
 * Reading the parameters of a POST: a form (urlencoded or multipart), with every
 * text field as a string; a malformed form is the client's error (400), never a 500.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { errorMessage } from "../errors.ts";
import { errorResponse, fail } from "./http_error.ts";

/** The largest request body of the admin routes (the configuration editor's form). */
export const ADMIN_BODY_LIMIT = 1024 * 1024;
/** The largest request body of the webhooks (which ignore it). */
export const WEBHOOK_BODY_LIMIT = 64 * 1024;

/** Refuses a larger body with 413, before reading it when its length is declared. */
export function limitBody(maxSize: number): MiddlewareHandler {
  return bodyLimit({
    maxSize,
    onError: () => errorResponse(413, `request body larger than ${maxSize} bytes`),
  });
}

/** The form's text fields; {} when the request carries no form. */
export async function readForm(c: Context): Promise<Record<string, string>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^\s*(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) return {};
  let body: Record<string, unknown>;
  try {
    body = await c.req.parseBody();
  } catch (err) {
    fail(400, `cannot read the form: ${errorMessage(err)}`);
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value === "string") fields[key] = value;
  }
  return fields;
}
