/**
 * Go module paths: validity as Go's golang.org/x/mod/module.CheckPath decides (with
 * the same error texts), the split into prefix and major suffix, and the case
 * escaping that the module proxy protocol uses for paths and versions ("!" +
 * lowercase letter).
 *
 * Pure functions, no I/O.
 *
 * @module
 */

const BAD_WINDOWS_NAMES = new Set([
  "CON",
  "PRN",
  "AUX",
  "NUL",
  ...Array.from({ length: 9 }, (_, i) => `COM${i + 1}`),
  ...Array.from({ length: 9 }, (_, i) => `LPT${i + 1}`),
]);

/**
 * Checks a module path as Go's module.CheckPath does. Returns undefined when valid,
 * else Go's error text, e.g. `malformed module path "x": missing dot in first path element`.
 */
export function checkModulePath(path: string): string | undefined {
  const reason = modulePathProblem(path);
  return reason === undefined ? undefined : `malformed module path ${goQuote(path)}: ${reason}`;
}

function modulePathProblem(path: string): string | undefined {
  const general = checkPathElems(path, "module");
  if (general !== undefined) return general;
  const slash = path.indexOf("/");
  const i = slash === -1 ? path.length : slash;
  if (i === 0) return "leading slash";
  const first = path.slice(0, i);
  if (!first.includes(".")) return "missing dot in first path element";
  if (path[0] === "-") return "leading dash in first path element";
  for (const c of first) {
    if (!/^[-.0-9a-z]$/.test(c)) return `invalid char ${goQuoteRune(c)} in first path element`;
  }
  if (splitPathMajor(path) === undefined) return "invalid version";
  return undefined;
}

type PathKind = "module" | "file";

function checkPathElems(path: string, kind: PathKind): string | undefined {
  if (!path.isWellFormed()) return "invalid UTF-8";
  if (path === "") return "empty string";
  if (path[0] === "-") return "leading dash";
  if (path.includes("//")) return "double slash";
  if (path.endsWith("/")) return "trailing slash";
  for (const elem of path.split("/")) {
    const problem = checkElem(elem, kind);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function checkElem(elem: string, kind: PathKind): string | undefined {
  if (elem === "") return "empty path element";
  if (/^\.+$/.test(elem)) return `invalid path element ${goQuote(elem)}`;
  if (elem[0] === "." && kind === "module") return "leading dot in path element";
  if (elem.endsWith(".")) return "trailing dot in path element";
  for (const c of elem) {
    const ok = kind === "module" ? /^[-._~0-9A-Za-z]$/.test(c) : fileNameOk(c);
    if (!ok) return `invalid char ${goQuoteRune(c)}`;
  }
  const dot = elem.indexOf(".");
  const short = dot === -1 ? elem : elem.slice(0, dot);
  if (BAD_WINDOWS_NAMES.has(short.toUpperCase()) && /^[A-Za-z0-9]+$/.test(short)) {
    return `${goQuote(short)} disallowed as path element component on Windows`;
  }
  if (kind === "file") return undefined;
  const tilde = short.lastIndexOf("~");
  if (tilde !== -1 && tilde < short.length - 1 && /^[0-9]+$/.test(short.slice(tilde + 1))) {
    return "trailing tilde and digits in path element";
  }
  return undefined;
}

function fileNameOk(c: string): boolean {
  if (c.length === 1 && c.charCodeAt(0) < 0x80) {
    return /^[0-9A-Za-z!#$%&()+,\-.=@[\]^_{}~ ]$/.test(c);
  }
  return /^\p{L}$/u.test(c);
}

/** A module path split into its prefix and major version suffix. */
export interface PathMajor {
  /** The path without the suffix, e.g. "github.com/x/y" for "github.com/x/y/v2". */
  prefix: string;
  /** The suffix: "" (v0 or v1), "/v2", or for gopkg.in ".v3". */
  pathMajor: string;
}

/**
 * Splits a module path into prefix and major suffix as Go's module.SplitPathVersion
 * does. Returns undefined for a bad suffix such as "/v1", "/v0" or "/v2.0".
 */
export function splitPathMajor(path: string): PathMajor | undefined {
  if (path.startsWith("gopkg.in/")) return splitGopkgIn(path);
  let i = path.length;
  let dot = false;
  while (i > 0 && /[0-9.]/.test(path[i - 1] ?? "")) {
    if (path[i - 1] === ".") dot = true;
    i--;
  }
  if (i <= 1 || i === path.length || path[i - 1] !== "v" || path[i - 2] !== "/") {
    return { prefix: path, pathMajor: "" };
  }
  const pathMajor = path.slice(i - 2);
  if (dot || pathMajor.length <= 2 || pathMajor[2] === "0" || pathMajor === "/v1") return undefined;
  return { prefix: path.slice(0, i - 2), pathMajor };
}

function splitGopkgIn(path: string): PathMajor | undefined {
  let i = path.length;
  if (path.endsWith("-unstable")) i -= "-unstable".length;
  while (i > 0 && /[0-9]/.test(path[i - 1] ?? "")) i--;
  if (i <= 1 || path[i - 1] !== "v" || path[i - 2] !== ".") return undefined;
  const pathMajor = path.slice(i - 2);
  if (pathMajor.length <= 2 || (pathMajor[2] === "0" && pathMajor !== ".v0")) return undefined;
  return { prefix: path.slice(0, i - 2), pathMajor };
}

/**
 * The module path of the next major version: "x/y" and "x/y/v1"-era paths give
 * "x/y/v2", "x/y/v3" gives "x/y/v4", "gopkg.in/yaml.v3" gives "gopkg.in/yaml.v4".
 * Returns undefined for an invalid path and for "-unstable" gopkg.in paths.
 * @param minMajor the lowest major to return (e.g. one above an +incompatible version's major)
 */
export function nextMajorPath(path: string, minMajor = 0): string | undefined {
  const split = splitPathMajor(path);
  if (split === undefined || checkModulePath(path) !== undefined) return undefined;
  const { prefix, pathMajor } = split;
  if (pathMajor.endsWith("-unstable")) return undefined;
  const current = pathMajor === "" ? 1 : Number(pathMajor.slice(2));
  const next = Math.max(current + 1, minMajor);
  return pathMajor.startsWith(".") ? `${prefix}.v${next}` : `${prefix}/v${next}`;
}

/**
 * Escapes a module path for proxy URLs as Go's module.EscapePath: each uppercase
 * letter becomes "!" and its lowercase ("github.com/!burnt!sushi/toml").
 * @throws TypeError with Go's message when the path is invalid
 */
export function escapeModulePath(path: string): string {
  const problem = checkModulePath(path);
  if (problem !== undefined) throw new TypeError(problem);
  return escapeString(path);
}

/**
 * Escapes a version for proxy URLs as Go's module.EscapeVersion ("v1.0.0-RC1" gives
 * "v1.0.0-!r!c1").
 * @throws TypeError with Go's message when the version is not allowed
 */
export function escapeModuleVersion(version: string): string {
  if (
    !version.isWellFormed() || version.includes("!") || version.includes("/") ||
    checkElem(version, "file") !== undefined
  ) {
    throw new TypeError(`version ${goQuote(version)} invalid: disallowed version string`);
  }
  return escapeString(version);
}

function escapeString(s: string): string {
  // Unreachable for module paths; versions may hold non-ASCII letters, which Go refuses here.
  if ([...s].some((c) => c.charCodeAt(0) >= 0x80)) {
    throw new TypeError("internal error: inconsistency in EscapePath");
  }
  return s.replace(/[A-Z]/g, (c) => "!" + c.toLowerCase());
}

/** Quotes a string as Go's %q does (strconv.Quote). */
export function goQuote(s: string): string {
  let out = '"';
  for (const c of s) out += c === '"' ? '\\"' : c === "'" ? "'" : quoteChar(c);
  return out + '"';
}

/** Quotes one character as Go's %q on a rune does (strconv.QuoteRune). */
function goQuoteRune(c: string): string {
  return "'" + (c === "'" ? "\\'" : c === '"' ? '"' : quoteChar(c)) + "'";
}

const SIMPLE_ESCAPES: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
};

function quoteChar(c: string): string {
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return simple;
  const code = c.codePointAt(0) ?? 0;
  if (code >= 0x20 && code < 0x7f) return c;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, "0")}`;
  if (/^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(c) || c === " ") return c;
  return code > 0xffff
    ? `\\U${code.toString(16).padStart(8, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}
