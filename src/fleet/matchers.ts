/**
 * Label matchers as Prometheus and Alertmanager write them, for `fleet.alerts_match`:
 * `severity="critical"`, `alertname=~"Ysco.*|HighErrorRate"`, `team!="dev"`,
 * `instance!~"test-.*"`, several separated by commas and optionally inside braces
 * (`{severity="critical", team="web"}`). An alert matches when every matcher holds;
 * no matchers match every alert.
 *
 * As in Prometheus: a regular expression must match the whole label value (it is
 * anchored), a missing label has the value "" (so `team!="x"` matches alerts without
 * a team), and values are double-quoted strings with backslash escapes. As amtool
 * allows, a value without spaces, commas, quotes or braces may go unquoted. Regular
 * expressions are JavaScript's, which agree with Prometheus' RE2 on the usual syntax.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

/** One label matcher. */
export interface Matcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const OPS = ["=~", "!~", "!=", "="] as const;

/**
 * Parses matchers.
 * @throws SyntaxError naming the position and what was expected there
 */
export function parseMatchers(text: string): Matcher[] {
  let s = text.trim();
  if (s.startsWith("{")) {
    if (!s.endsWith("}")) throw new SyntaxError(`Cannot parse matchers "${text}": missing "}"`);
    s = s.slice(1, -1).trim();
  }
  const matchers: Matcher[] = [];
  let pos = 0;
  function fail(what: string): never {
    throw new SyntaxError(
      `Cannot parse matchers "${text}": ${what} at "${s.slice(pos, pos + 20)}"`,
    );
  }
  const skipSpace = () => {
    while (pos < s.length && /\s/.test(s[pos] ?? "")) pos++;
  };
  skipSpace();
  while (pos < s.length) {
    const name = NAME.exec(s.slice(pos))?.[0];
    if (name === undefined) return fail("expected a label name");
    pos += name.length;
    skipSpace();
    const op = OPS.find((o) => s.startsWith(o, pos));
    if (op === undefined) return fail("expected one of =, !=, =~, !~");
    pos += op.length;
    skipSpace();
    let value = "";
    if (s[pos] === '"') {
      pos++;
      let closed = false;
      while (pos < s.length) {
        const c = s[pos++];
        if (c === '"') {
          closed = true;
          break;
        }
        if (c === "\\") {
          const e = s[pos++];
          if (e === "n") value += "\n";
          else if (e === "t") value += "\t";
          else if (e === "\\" || e === '"') value += e;
          else {
            pos -= 2;
            fail("unknown escape");
          }
        } else value += c;
      }
      if (!closed) fail("unterminated string");
    } else {
      const m = /^[^\s,"{}=!~][^\s,"{}]*/.exec(s.slice(pos));
      if (m === null) return fail("expected a value");
      value = m[0];
      pos += value.length;
    }
    if (op === "=~" || op === "!~") {
      try {
        new RegExp(value, "u");
      } catch (err) {
        throw new SyntaxError(
          `Cannot parse matchers "${text}": ${name} ${op} "${value}" is no regular expression: ${
            err instanceof Error ? err.message : String(err)
          }`,
        );
      }
    }
    matchers.push({ name, op, value });
    skipSpace();
    if (pos < s.length) {
      if (s[pos] !== ",") fail('expected ","');
      pos++;
      skipSpace();
    }
  }
  return matchers;
}

/** Whether the labels satisfy every matcher (a missing label counts as ""). */
export function matchesAll(
  labels: Readonly<Record<string, string>>,
  matchers: readonly Matcher[],
): boolean {
  return matchers.every((m) => {
    const v = labels[m.name] ?? "";
    switch (m.op) {
      case "=":
        return v === m.value;
      case "!=":
        return v !== m.value;
      case "=~":
        return anchored(m.value).test(v);
      case "!~":
        return !anchored(m.value).test(v);
    }
  });
}

/** Matchers written back in their canonical form: `{a="x", b=~"y"}`. */
export function formatMatchers(matchers: readonly Matcher[]): string {
  return `{${matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(", ")}}`;
}

/** The problem with a matcher text, for configuration checks; undefined when it parses. */
export function matchersProblem(text: string): string | undefined {
  try {
    parseMatchers(text);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message.replace(/^Cannot parse matchers "[^]*?": /, "") : "";
  }
}

function anchored(re: string): RegExp {
  return new RegExp(`^(?:${re})$`, "u");
}
