/**
 * The errors of verification that callers branch on: data that failed a check
 * (never retried silently, never installed) and a proof that the log misbehaved.
 *
 * @module
 */

/**
 * Data from gobuild did not verify: a bad signature, a tile or record that the
 * signed tree does not vouch for, a record for another build, a binary whose sum or
 * size differs from its record.
 */
export class VerificationError extends Error {
  /**
   * @param message "Cannot <action> <object>: <state>"
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "VerificationError";
  }
}

/**
 * Proof that the transparency log misbehaved: two signed trees that cannot both be
 * true (a fork, or a tree that is not an extension of the stored one). Callers log
 * `report` loudly and count it; the lookup is refused, the process keeps running.
 */
export class SecurityError extends VerificationError {
  /** The signed tree note the client trusted (stored or seen before). */
  readonly trustedNote: string;
  /** The signed tree note received that contradicts it. */
  readonly receivedNote: string;
  /** Multi-line report with both notes and the proof, in the manner of Go's sumdb client. */
  readonly report: string;

  /**
   * @param message one line: what was contradicted
   * @param details the two notes and the report
   */
  constructor(
    message: string,
    details: { trustedNote: string; receivedNote: string; report: string },
  ) {
    super(message);
    this.name = "SecurityError";
    this.trustedNote = details.trustedNote;
    this.receivedNote = details.receivedNote;
    this.report = details.report;
  }
}

/** An HTTP answer other than 200, with the URL and the start of the body. */
export class HttpStatusError extends Error {
  /** The URL requested. */
  readonly url: string;
  /** The HTTP status. */
  readonly status: number;

  /**
   * @param action what was attempted, e.g. "fetch tile"
   * @param body the start of the response body (at most 500 characters are shown)
   */
  constructor(action: string, url: string, status: number, body: string) {
    const text = body.trim();
    const shown = text.length > 500 ? text.slice(0, 500) + "..." : text;
    super(`Cannot ${action} "${url}": status ${status}${shown ? ` (${shown})` : ""}`);
    this.name = "HttpStatusError";
    this.url = url;
    this.status = status;
  }
}
