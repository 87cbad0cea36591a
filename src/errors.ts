/**
 * Error helpers shared by the whole program.
 *
 * @module
 */

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
