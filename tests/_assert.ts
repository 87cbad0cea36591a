/**
 * Assertions for the tests, under the names and with the meaning of Deno's std
 * assertions (which come from jsr, which our machines cannot reach), built on Node's
 * strict assertions. assertThrows and assertRejects take std's arguments, so that
 * `assertThrows(fn, SyntaxError, "bad day")` means what it reads: a SyntaxError whose
 * message includes "bad day" (Node's third argument is a failure message instead). A
 * RegExp, a predicate or an object as the second argument is Node's check.
 *
 * @module
 */

import { rejects, throws } from "node:assert/strict";

export {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  notDeepStrictEqual as assertNotEquals,
  ok as assert,
} from "node:assert/strict";

/** An Error class, whatever its constructor takes. */
type ErrorClass = new (...args: never[]) => Error;

/** What may be expected of an error: a class, or Node's RegExp, predicate or object. */
export type Expected = ErrorClass | RegExp | ((err: unknown) => boolean) | object;

function isErrorClass(e: unknown): e is ErrorClass {
  return typeof e === "function" && (e === Error || e.prototype instanceof Error);
}

/** A check of Node's for: an instance of cls whose message includes text. */
function classCheck(cls: ErrorClass, text: string | undefined): (err: unknown) => boolean {
  return (err) => {
    if (!(err instanceof cls)) {
      throw new Error(
        `expected ${cls.name}, got ${err instanceof Error ? err.name : typeof err}: ${err}`,
      );
    }
    if (text !== undefined && !err.message.includes(text)) {
      throw new Error(`expected the message to include ${JSON.stringify(text)}: ${err.message}`);
    }
    return true;
  };
}

/**
 * Asserts that fn throws. With an Error class: an instance of it, whose message
 * includes msgIncludes when given (std's meaning); msg is the failure message.
 */
export function assertThrows(
  fn: () => unknown,
  expected?: Expected,
  msgIncludes?: string,
  msg?: string,
): void {
  if (expected === undefined) return throws(fn);
  if (isErrorClass(expected)) return throws(fn, classCheck(expected, msgIncludes), msg);
  return throws(fn, expected, msgIncludes);
}

/** Asserts that fn rejects (or the promise does); arguments as assertThrows. */
export async function assertRejects(
  fn: (() => Promise<unknown>) | Promise<unknown>,
  expected?: Expected,
  msgIncludes?: string,
  msg?: string,
): Promise<void> {
  if (expected === undefined) return await rejects(fn);
  if (isErrorClass(expected)) return await rejects(fn, classCheck(expected, msgIncludes), msg);
  return await rejects(fn, expected, msgIncludes);
}
