/**
 * A guessed link to the release notes of a version (the original's guessTagURL,
 * guarded for short paths): GitHub, GitLab, Codeberg, sourcehut and golang.org/x.
 *
 * @module
 */

import { isPrerelease } from "../../version/semver.ts";

/** The guessed URL, or undefined for unknown hosts and prereleases. */
export function tagUrl(modPath: string, version: string): string | undefined {
  if (isPrerelease(version)) return undefined;
  const t = modPath.split("/");
  const [host = "", a = "", b = ""] = t;
  const rest = t.slice(3);
  if (host.includes("github") && t.length >= 3) {
    return `https://${host}/${a}/${b}/releases/tag/${
      encodeURIComponent([...rest, version].join("/"))
    }`;
  }
  if (host.includes("gitlab") && t.length >= 3) {
    return `https://${host}/${a}/${b}/-/tags/${version}`;
  }
  if (host.includes("codeberg") && t.length >= 3) {
    return `https://${host}/${a}/${b}/releases/tag/${version}`;
  }
  if (host.includes("sr.ht") && t.length >= 3) return `https://${host}/${a}/${b}/refs/${version}`;
  if (host === "golang.org" && a === "x" && t.length >= 3) {
    return `https://github.com/golang/${b}/releases/tag/${
      encodeURIComponent([...rest, version].join("/"))
    }`;
  }
  return undefined;
}
