/**
 * The admin web interface and API (Hono): the status page and its forms, `/json`,
 * `POST /update`, the webhooks `/notify` and `/notifytoolchain`, the public
 * `/service-version[.json]`, and `/metrics`. Routes follow the original (reference
 * 9.2-9.5) with its bugs fixed: `latest` picks the newest release, `current` works
 * for the Go version, pages do no live lookups, and `/json` carries no config text.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import { validateConfig } from "../config/load.ts";
import { ConfigError } from "../config/parse.ts";
import { errorMessage } from "../errors.ts";
import type { FleetGate } from "../fleet/gate.ts";
import type { Logger } from "../log.ts";
import type { Registry } from "../metrics.ts";
import { writeFileAtomic } from "../atomic_file.ts";
import type { StatusView, UpdateRequest, UpdateResult } from "../update/updater.ts";
import { compareSemver, isPrerelease, semverMajor } from "../version/semver.ts";
import { type FleetGroupView, renderPage } from "./page.ts";
import { checkBasicAuth, CsrfTokens, sameOrigin } from "./security.ts";

/** What the admin interface works with: the updater's snapshot and actions. */
export interface AdminActions {
  status(): StatusView;
  check(): Promise<unknown>;
  pause(reason?: string): Promise<void>;
  unpause(): Promise<void>;
  notify(): void;
  cancelScheduled(which: "svc" | "self"): Promise<void>;
  update(request: UpdateRequest): Promise<UpdateResult>;
  setConfig(config: Config): void;
  readonly busy: boolean;
}

/** Dependencies of the admin app. */
export interface AdminDeps {
  actions: AdminActions;
  /** The admin password (from the auth file; changes when the configuration does). */
  password: string;
  /** The ys directory: the configuration file is `<dir>/ysco.toml`. */
  dir: string;
  /** ysco's command line, shown on the page. */
  argv: string[];
  registry: Registry;
  /** Whether this server also serves /metrics (one address for both). */
  serveMetrics: boolean;
  /** The port this server listens on: a self-update hands its request's connection over by it. */
  listenPort?: number;
  yscoVersion: string;
  log: Logger;
  /** Shortest time between two checks started by webhooks, ms. @default 10000 */
  notifyIntervalMs?: number;
  /** The clock. @default Date.now */
  now?: () => number;
  /** The fleet gate, when `[fleet]` is configured: the group view and resuming halts. */
  fleet?: AdminFleet;
}

/** What the admin interface uses of the fleet gate. */
export type AdminFleet = Pick<FleetGate, "readGroup" | "resume">;

/** Longest wait for etcd when the page shows the fleet group. */
const FLEET_READ_TIMEOUT_MS = 3000;

/** Creates the admin app (admin routes, and `/metrics` when serveMetrics). */
export function createAdminApp(deps: AdminDeps): Hono {
  const app = new Hono();
  const csrf = new CsrfTokens();
  const now = deps.now ?? Date.now;
  let password = deps.password;
  let lastNotify = -Infinity;
  const configFile = join(deps.dir, "ysco.toml");
  const { actions, log } = deps;
  // The last good reading of the fleet group, shown (with its time) when etcd does not answer.
  let fleetGroup: FleetGroupView = {};
  const readFleetGroup = async (): Promise<FleetGroupView | undefined> => {
    const fleet = deps.fleet;
    if (fleet?.readGroup === undefined) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const status = await Promise.race([
        fleet.readGroup(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${FLEET_READ_TIMEOUT_MS / 1000}s`)),
            FLEET_READ_TIMEOUT_MS,
          );
        }),
      ]);
      fleetGroup = { status, readAt: now() };
    } catch (err) {
      fleetGroup = { ...fleetGroup, error: errorMessage(err) };
    } finally {
      clearTimeout(timer);
    }
    return fleetGroup;
  };

  const fail = (c: Context, code: number, message: string) => {
    const text = STATUS_TEXT[code] ?? "Error";
    if (code >= 500) {
      log.error("http server error", {
        code,
        err: message,
        method: c.req.method,
        path: c.req.path,
      });
    } else {log.debug("http server error", {
        code,
        err: message,
        method: c.req.method,
        path: c.req.path,
      });}
    return c.text(`${code} - ${text} - ${message}\n`, code as 400);
  };
  const authed = async (c: Context) =>
    await checkBasicAuth(c.req.header("authorization"), password);
  const unauthorized = (c: Context) => {
    c.header("WWW-Authenticate", 'Basic realm="ysco", charset="UTF-8"');
    return fail(c, 401, "bad/missing credentials");
  };

  // Public: the service's version, for monitoring and load balancers.
  app.get("/service-version", (c) => {
    const s = actions.status().svc;
    return c.text(`${s.path} ${s.version} ${s.goVersion} ${s.goos} ${s.goarch}\n`);
  });
  app.get("/service-version.json", (c) => {
    const s = actions.status().svc;
    const body = {
      arch: s.goarch,
      goversion: s.goVersion,
      module: s.modPath,
      os: s.goos,
      package: s.path,
      version: s.version,
    };
    c.header("Content-Type", "application/json; charset=utf-8");
    return c.body(JSON.stringify(body, null, "\t") + "\n");
  });

  // Webhooks (gopherwatch): no authentication, body ignored; at most one check per interval.
  for (const path of ["/notify", "/notifytoolchain"]) {
    app.post(path, (c) => {
      const policy = actions.status().config.policy;
      const manual = path === "/notify"
        ? policy.service === "manual" && policy.self === "manual"
        : policy.service_toolchain === "manual" && policy.self_toolchain === "manual";
      log.debug(
        path === "/notify" ? "notification for module update" : "notification for toolchain update",
      );
      if (!manual && now() - lastNotify >= (deps.notifyIntervalMs ?? 10_000)) {
        lastNotify = now();
        actions.notify();
      }
      return c.text("ok\n");
    });
  }

  if (deps.serveMetrics) app.get("/metrics", (c) => metricsResponse(c, deps.registry));

  // Everything below needs the admin password.
  app.get("/", async (c) => {
    if (!(await authed(c))) return unauthorized(c);
    const status = actions.status();
    if (status.busy) c.header("Refresh", "3");
    const group = await readFleetGroup();
    return c.html(
      await renderPage({
        status,
        csrf: await csrf.token(),
        argv: deps.argv,
        configFile,
        configText: await Deno.readTextFile(configFile).catch(() => ""),
        yscoVersion: deps.yscoVersion,
        now: now(),
        ...(group ? { fleetGroup: group } : {}),
      }),
    );
  });

  app.get("/json", async (c) => {
    if (!(await authed(c))) return unauthorized(c);
    return c.json(statusJson(actions.status(), deps.argv, configFile, deps.yscoVersion));
  });

  app.post("/", async (c) => {
    if (!(await authed(c))) return unauthorized(c);
    const form = await c.req.parseBody();
    if (!sameOrigin(c.req.raw) || !(await csrf.verify(str(form.csrf)))) {
      return fail(
        c,
        403,
        "form not from this page (missing or bad token); reload the page and try again",
      );
    }
    const command = str(form.command) ?? "";
    switch (command) {
      case "check":
        try {
          await actions.check();
        } catch (err) {
          return fail(c, 500, `checking: ${errorMessage(err)}`);
        }
        break;
      case "pause":
        await actions.pause();
        break;
      case "unpause":
        await actions.unpause();
        break;
      case "cancel": {
        const which = str(form.which);
        if (which !== "svc" && which !== "self") return fail(c, 400, "missing/invalid which");
        await actions.cancelScheduled(which);
        break;
      }
      case "update": {
        const which = str(form.which);
        const version = str(form.version)?.trim() ?? "";
        const goVersion = str(form.goversion)?.trim() ?? "";
        if (which === "self" && version !== "") return await updateSelf(c, version, true);
        if (which !== "svc" || version === "" || goVersion === "") {
          return fail(c, 400, "missing/empty version or goversion or missing/invalid which");
        }
        if (actions.busy) return fail(c, 400, "update busy");
        await actions.cancelScheduled(which);
        // The page shows the progress; the update goes on after this answer.
        actions.update({ which, version, goVersion, manual: true }).catch((err) =>
          log.error("update from the admin page", { err: errorMessage(err) })
        );
        break;
      }
      case "fleetresume": {
        const version = str(form.version)?.trim() ?? "";
        const goVersion = str(form.goversion)?.trim() ?? "";
        const fleet = deps.fleet;
        if (fleet?.resume === undefined) {
          return fail(c, 400, "no fleet coordination through etcd configured");
        }
        if (version === "") return fail(c, 400, "missing version");
        const target = goVersion === "" ? version : `${version} ${goVersion}`;
        let removed;
        try {
          removed = await fleet.resume(target);
        } catch (err) {
          return fail(c, 500, `resuming ${target} in the fleet: ${errorMessage(err)}`);
        }
        if (removed.length === 0) return fail(c, 400, `no halt for ${target} in the fleet`);
        break;
      }
      case "saveconfig": {
        const text = (str(form.config) ?? "").replaceAll("\r\n", "\n");
        let loaded;
        try {
          loaded = await validateConfig(text, configFile);
        } catch (err) {
          if (err instanceof ConfigError) {
            return fail(c, 400, `parsing new config:\n${err.message}`);
          }
          throw err;
        }
        if (actions.busy) {
          return fail(c, 400, "update in progress, cannot apply a new configuration now");
        }
        try {
          await writeFileAtomic(configFile, text);
        } catch (err) {
          return fail(c, 500, `saving config: ${errorMessage(err)}`);
        }
        password = loaded.password;
        actions.setConfig(loaded.config);
        break;
      }
      default:
        return fail(c, 400, `unknown command "${command}"`);
    }
    return c.redirect("/", 303);
  });

  /**
   * A self-update asked over HTTP. On success this process is replaced and the new
   * one answers on this connection (handed over by descriptor); this handler then
   * never returns. It answers itself only when the update failed before the exec.
   */
  const updateSelf = async (c: Context, requested: string, redirect: boolean) => {
    const status = actions.status();
    let version = requested;
    if (version === "latest") {
      try {
        await actions.check();
      } catch (err) {
        return fail(c, 500, `looking up latest versions: ${errorMessage(err)}`);
      }
      const versions = actions.status().lastCheck?.selfVersions ?? [];
      const newest = versions.filter((v) =>
        !isPrerelease(v)
      ).sort((a, b) => compareSemver(b, a))[0];
      if (newest === undefined) {
        return fail(
          c,
          500,
          `no release of ysco found: ${actions.status().lastCheck?.selfError ?? "empty feed"}`,
        );
      }
      version = newest;
    }
    if (version === "current" || version === status.self.version) {
      return fail(c, 400, "already at requested version");
    }
    if (actions.busy) return fail(c, 400, "update busy");
    const info = c.env as Deno.ServeHandlerInfo<Deno.NetAddr> | undefined;
    const remote = info?.remoteAddr;
    await actions.cancelScheduled("self");
    const result = await actions.update({
      which: "self",
      version,
      goVersion: "",
      manual: true,
      ...(remote && deps.listenPort
        ? {
          handoff: {
            remote: { hostname: remote.hostname, port: remote.port },
            localPort: deps.listenPort,
            redirect,
          },
        }
        : {}),
    });
    return fail(c, 500, `updating: ${result.outcome}: ${result.reason ?? ""}`);
  };

  app.post("/update", async (c) => {
    const query = c.req.query();
    const form = c.req.header("content-type")?.includes("form") ? await c.req.parseBody() : {};
    const param = (k: string) => (str(form[k]) ?? query[k] ?? "").trim();
    const which = param("which");
    let version = param("version");
    let goVersion = param("goversion");
    log.debug("update request", { which, version, goversion: goVersion });
    if (!(await authed(c))) return unauthorized(c);
    if (!sameOrigin(c.req.raw)) return fail(c, 403, "cross-site request refused");
    if (which === "self") {
      if (version === "") return fail(c, 400, "missing version");
      return await updateSelf(c, version, false);
    }
    if (version === "" || goVersion === "" || which !== "svc") {
      return fail(c, 400, "missing version or goversion or missing/invalid 'which'");
    }
    const running = actions.status().svc;
    if (version === "latest" || goVersion === "latest") {
      try {
        await actions.check();
      } catch (err) {
        return fail(c, 500, `looking up latest versions: ${errorMessage(err)}`);
      }
      const check = actions.status().lastCheck;
      if (version === "latest") {
        if (check?.svc === undefined) {
          return fail(c, 500, `fetch latest version: ${check?.svcError ?? "no answer"}`);
        }
        const major = semverMajor(running.version);
        const newest = check.svc.versions
          .filter((v) => !isPrerelease(v.version) && semverMajor(v.version) === major)
          .sort((a, b) => compareSemver(b.version, a.version))[0];
        if (newest === undefined) {
          return fail(c, 500, "no latest module for current major version found, may be too old");
        }
        version = newest.version;
      }
      if (goVersion === "latest") {
        const cur = check?.toolchains?.toolchains.cur ?? "";
        if (cur === "") {
          return fail(
            c,
            500,
            `looking up latest toolchains: ${check?.toolchainsError ?? "none found"}`,
          );
        }
        goVersion = cur;
      }
    }
    if (version === "current") version = running.version;
    if (goVersion === "current") goVersion = running.goVersion;
    if (version === running.version && goVersion === running.goVersion) {
      return fail(c, 400, "already at requested version");
    }
    if (actions.busy) return fail(c, 400, "update busy");
    await actions.cancelScheduled("svc");
    const result = await actions.update({ which: "svc", version, goVersion, manual: true });
    if (result.outcome !== "installed") {
      return fail(c, 500, `updating: ${result.outcome}: ${result.reason ?? ""}`);
    }
    return c.text("ok\n");
  });

  app.get("/favicon.ico", (c) => {
    c.header("Content-Type", "image/svg+xml");
    c.header("Cache-Control", "max-age=86400");
    return c.body(FAVICON);
  });

  app.notFound((c) => {
    const allowed = ROUTES[c.req.path];
    if (allowed === undefined || (deps.serveMetrics === false && c.req.path === "/metrics")) {
      return fail(c, 404, "not found");
    }
    c.header("Allow", allowed);
    return fail(c, 405, `method not allowed (allowed: ${allowed})`);
  });
  app.onError((err, c) => fail(c, 500, errorMessage(err)));
  return app;
}

/** The admin server's paths and their methods, for 405 answers. */
const ROUTES: Record<string, string> = {
  "/": "GET, HEAD, POST",
  "/json": "GET, HEAD",
  "/update": "POST",
  "/notify": "POST",
  "/notifytoolchain": "POST",
  "/service-version": "GET, HEAD",
  "/service-version.json": "GET, HEAD",
  "/metrics": "GET, HEAD",
  "/favicon.ico": "GET, HEAD",
};

/** The metrics-only app for `-metricsaddr`: `/metrics`, and `/` redirecting to it. */
export function createMetricsApp(registry: Registry): Hono {
  const app = new Hono();
  app.get("/metrics", (c) => metricsResponse(c, registry));
  app.get("/", (c) => c.redirect("/metrics", 302));
  app.notFound((c) => c.text("404 - Not Found - not found\n", 404));
  return app;
}

function metricsResponse(c: Context, registry: Registry): Response {
  c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return c.body(registry.render());
}

/** The status as `/json` gives it: the original's field names, plus ysco's additions. */
export function statusJson(
  s: StatusView,
  argv: string[],
  configFile: string,
  yscoVersion: string,
): Record<string, unknown> {
  const check = s.lastCheck;
  const versions = check?.svc?.versions.map((v) => v.version) ?? [];
  if (s.svc.version !== "" && !versions.includes(s.svc.version)) versions.push(s.svc.version);
  const tc = check?.toolchains?.toolchains;
  return {
    SvcModPath: s.svc.modPath,
    SvcPkgDir: s.svc.pkgDir,
    SvcVersion: s.svc.version,
    SvcGoVersion: s.svc.goVersion,
    SelfModPath: "ysco",
    SelfPkgDir: "/",
    SelfVersion: yscoVersion,
    SelfGoVersion: "",
    UpdateBusy: s.busy !== undefined,
    PauseReason: s.state.pauseReason,
    Scheduled: s.state.scheduled.map((u) => ({
      Time: u.time,
      Which: u.which,
      ModPath: u.modPath,
      PkgDir: u.pkgDir,
      Version: u.version,
      GoVersion: u.goVersion,
    })),
    Backoff: s.state.backoff,
    BackoffReason: s.state.backoffReason,
    SvcVersionsError: check?.svcError ?? "",
    SvcVersions: versions,
    SelfVersionsError: check?.selfError ?? "",
    SelfVersions: check?.selfVersions ?? [],
    GoVersionsError: check?.toolchainsError ?? "",
    GoVersions: tc ? [tc.cur, tc.prev, tc.next].filter((v) => v !== "") : [],
    Argv: argv,
    ConfigPath: configFile,
    Links: s.config.links.map((l) => ({ URL: l.url, Text: l.text })),
    // ysco's additions.
    Pid: s.pid ?? 0,
    Started: s.startedAt ?? "",
    Busy: s.busy ?? null,
    NextUpdate: s.nextUpdate ?? null,
    NextCheck: s.nextCheck ?? "",
    LastCheck: check?.time ?? "",
    SvcDecision: check?.svcDecision ?? "",
    NewMajor: check?.svc?.newMajor
      ? { Module: check.svc.newMajor.module, Version: check.svc.newMajor.version.version }
      : null,
    History: s.state.history,
    Fleet: s.fleet ?? null,
  };
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  500: "Internal Server Error",
};

const FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">' +
  '<circle cx="8" cy="8" r="7" fill="#2a7"/><path d="M5 8.5l2 2 4-5" stroke="#fff" stroke-width="2" fill="none"/></svg>';
