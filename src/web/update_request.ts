/**
 * Updates asked for by hand, from the page's forms and from `POST /update`: the
 * target is resolved ("latest" and "current" for the API) and checked before
 * anything starts, so that a bad request gets a 400 at once and leaves no "failed"
 * entry in the history.
 *
 * @module
 */

import type { Context } from "hono";
import { errorMessage } from "../errors.ts";
import type { Release } from "../state/state.ts";
import { compareSemver, isPrerelease, isValidSemver, semverMajor } from "../version/semver.ts";
import { isValidGoVersion } from "../version/goversion.ts";
import type { AdminActions } from "./actions.ts";
import { fail } from "./http_error.ts";
import { remoteAddrOf } from "./server.ts";

/**
 * The release of a service update asked for by hand, checked: "latest" (the newest
 * release of the running major) and "current" (the running one) when keywords are
 * allowed, valid version syntax, and not the running release.
 * @throws HTTPException 400 for a bad or pointless request, 500 when a lookup fails
 */
export async function serviceTarget(
  actions: AdminActions,
  requested: Release,
  keywords: boolean,
): Promise<Release> {
  let { version, goVersion } = requested;
  const running = actions.status().svc;
  if (keywords && (version === "latest" || goVersion === "latest")) {
    try {
      await actions.check();
    } catch (err) {
      fail(500, `looking up latest versions: ${errorMessage(err)}`);
    }
    const check = actions.status().lastCheck;
    if (version === "latest") {
      if (check?.svc === undefined) {
        fail(500, `fetch latest version: ${check?.svcError ?? "no answer"}`);
      }
      const major = semverMajor(running.version);
      const newest = check.svc.versions
        .filter((v) => !isPrerelease(v.version) && semverMajor(v.version) === major)
        .sort((a, b) => compareSemver(b.version, a.version))[0];
      if (newest === undefined) {
        fail(500, "no latest module for current major version found, may be too old");
      }
      version = newest.version;
    }
    if (goVersion === "latest") {
      const cur = check?.toolchains?.toolchains.cur ?? "";
      if (cur === "") {
        fail(500, `looking up latest toolchains: ${check?.toolchainsError ?? "none found"}`);
      }
      goVersion = cur;
    }
  }
  if (keywords && version === "current") version = running.version;
  if (keywords && goVersion === "current") goVersion = running.goVersion;
  if (!isFullVersion(version)) {
    fail(400, `invalid version "${version}": not a module version like v1.2.3`);
  }
  if (!isValidGoVersion(goVersion)) {
    fail(400, `invalid Go version "${goVersion}": not a Go version like go1.23.4`);
  }
  if (version === running.version && goVersion === running.goVersion) {
    fail(400, "already at requested version");
  }
  if (actions.busy) fail(400, "update busy");
  return { version, goVersion };
}

/** What a self-update over HTTP needs besides the actions. */
export interface SelfUpdateOptions {
  actions: AdminActions;
  /** The port the server listens on: the new process takes over the request's connection by it. */
  listenPort: number | undefined;
}

/**
 * A self-update asked over HTTP. On success this process is replaced and the new one
 * answers on this connection (handed over by descriptor), so this never returns; it
 * answers itself only when the update failed before the exec.
 * @param redirect whether the new process answers with a redirect to the page (forms)
 */
export async function updateSelf(
  c: Context,
  o: SelfUpdateOptions,
  requested: string,
  redirect: boolean,
): Promise<never> {
  const { actions } = o;
  let version = requested;
  if (version === "latest") {
    try {
      await actions.check();
    } catch (err) {
      fail(500, `looking up latest versions: ${errorMessage(err)}`);
    }
    const versions = actions.status().lastCheck?.selfVersions ?? [];
    const newest = versions.filter((v) => !isPrerelease(v)).sort((a, b) => compareSemver(b, a))[0];
    if (newest === undefined) {
      const why = actions.status().lastCheck?.selfError ?? "empty feed";
      fail(500, `no release of ysco found: ${why}`);
    }
    version = newest;
  }
  if (version === "current" || version === actions.status().self.version) {
    fail(400, "already at requested version");
  }
  if (!isFullVersion(version)) {
    fail(400, `invalid version "${version}": not a version like v1.2.3`);
  }
  if (actions.busy) fail(400, "update busy");
  const remote = remoteAddrOf(c.env);
  await actions.cancelScheduled("self");
  const result = await actions.update({
    which: "self",
    version,
    goVersion: "",
    manual: true,
    ...(remote && o.listenPort
      ? {
        handoff: {
          remote: { hostname: remote.hostname, port: remote.port },
          localPort: o.listenPort,
          redirect,
        },
      }
      : {}),
  });
  fail(500, `updating: ${result.outcome}: ${result.reason ?? ""}`);
}

/** A module version with major, minor and patch ("v1.2.3", "v1.2.3-rc.1", not "v1.2"). */
function isFullVersion(v: string): boolean {
  return /^v\d+\.\d+\.\d+(?:[-+]|$)/.test(v) && isValidSemver(v);
}
