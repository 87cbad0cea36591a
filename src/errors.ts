/**
 * Error helpers shared by the whole program.
 *
 * @module
 */

import { goQuote } from "./discover/module_path.ts";

/** The message of an error, or the value as text for anything thrown that is not an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A bad command line: main prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  /**
   * @param message what was wrong, e.g. `unknown flag "-x"`
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Text from outside (a file, a server's answer) for a one-line message: as it is
 * when short and plain (printable ASCII without quotes or backslashes), else quoted
 * as Go's %q does and cut to max characters.
 */
export function outsideText(s: string, max = 80): string {
  return s.length <= max && /^[\x21-\x7e](?:[ -~]*[\x21-\x7e])?$/.test(s) && !/["\\`]/.test(s)
    ? s
    : quoteCut(s, max);
}

/** Quotes text from outside as Go's %q does, cut to max characters ("..." after the quote). */
export function quoteCut(s: string, max = 80): string {
  const chars = [...s.slice(0, 2 * max + 2)];
  return chars.length > max ? `${goQuote(chars.slice(0, max).join(""))}...` : goQuote(s);
}
