/**
 * Durations in Go's syntax ("72h", "1h30m", "90s", "1.5h", "500ms", "0"), as the
 * original's configuration uses them, held as milliseconds.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3, // micro sign
  "\u03bcs": 1e-3, // Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go duration into milliseconds (fractions of a millisecond are kept).
 * @throws SyntaxError naming the problem, e.g. `missing unit in duration "10"`
 */
export function parseDuration(text: string): number {
  let s = text;
  let sign = 1;
  if (s.startsWith("-") || s.startsWith("+")) {
    if (s[0] === "-") sign = -1;
    s = s.slice(1);
  }
  if (s === "0") return 0;
  if (s === "") throw new SyntaxError(`Cannot parse duration "${text}": empty`);
  let total = 0;
  while (s !== "") {
    const m = /^([0-9]*)(\.[0-9]*)?([^0-9.]*)/.exec(s);
    const [all, int = "", frac = "", unit = ""] = m ?? [];
    if (all === undefined || (int === "" && (frac === "" || frac === "."))) {
      throw new SyntaxError(`Cannot parse duration "${text}": expected a number`);
    }
    if (unit === "") throw new SyntaxError(`Cannot parse duration "${text}": missing unit`);
    const factor = UNITS[unit];
    if (factor === undefined) {
      throw new SyntaxError(
        `Cannot parse duration "${text}": unknown unit "${unit}" (use ns, us, ms, s, m or h)`,
      );
    }
    total += Number(`${int || "0"}${frac === "." ? "" : frac}`) * factor;
    s = s.slice(all.length);
  }
  if (!Number.isFinite(total)) throw new SyntaxError(`Cannot parse duration "${text}": too large`);
  return sign * total;
}

/**
 * Formats milliseconds as Go's time.Duration.String does: "72h0m0s", "1m30s",
 * "1.5s", "500ms", "0s".
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  if (rest < 0.001) return `${sign}${trim(rest * 1e6)}ns`;
  if (rest < 1) return `${sign}${trim(rest * 1000)}\u00b5s`;
  if (rest < 1000) return `${sign}${trim(rest)}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = `${trim(rest / 1000)}s`;
  if (h > 0) return `${sign}${h}h${m}m${s}`;
  if (m > 0) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(6)));
}
