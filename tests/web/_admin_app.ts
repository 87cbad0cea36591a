/**
 * The admin app in process, for route tests with `app.request()`: a real app over a
 * real ys directory (configuration and password files), with the updater replaced
 * at its interface (AdminActions) by one that records what it is asked and answers
 * with a status the test sets.
 *
 * @module
 */

import { join } from "node:path";
import type { Hono } from "hono";
import type { Config } from "../../src/config/config.ts";
import { parseConfig } from "../../src/config/parse.ts";
import { createLogger } from "../../src/log.ts";
import { Counter, Registry } from "../../src/metrics/registry.ts";
import { emptyState } from "../../src/state/state.ts";
import type { StatusView, UpdateRequest, UpdateResult } from "../../src/update/types.ts";
import type { AdminActions, AdminDeps } from "../../src/web/app.ts";
import { createAdminApp } from "../../src/web/app.ts";
import { type TempDir, tempDir } from "../../world/util.ts";

/** The strong password of these tests (TEST_PASSWORD is short, for the warning). */
export const PASSWORD = "correct-horse-battery-staple";

/** An app in a temporary directory; `await using` removes it. */
export interface TestApp extends AsyncDisposable {
  app: Hono;
  dir: TempDir;
  /** `<dir>/ys/ysco.toml`. */
  configFile: string;
  actions: RecordingActions;
  log: string[];
  failures: Counter;
  /** The app's clock, ms; tests move it. */
  clock: { now: number };
  /** A request as the admin from 127.0.0.1. */
  admin(path: string, init?: RequestInit, remote?: string): Promise<Response>;
  /** A request without credentials from the address. */
  anon(path: string, init?: RequestInit, remote?: string): Promise<Response>;
  /** The page's form token. */
  token(): Promise<string>;
}

/** Options of startApp. */
export interface TestAppOptions {
  /** Extra TOML after `auth_file`. */
  config?: string;
  password?: string;
  deps?: Partial<AdminDeps>;
}

/** AdminActions that record their calls. */
export class RecordingActions implements AdminActions {
  calls: string[] = [];
  updates: UpdateRequest[] = [];
  busy = false;
  view: StatusView;

  constructor(config: Config) {
    this.view = {
      svc: {
        modPath: "example.com/testsvc",
        pkgDir: "/cmd/testsvc",
        path: "example.com/testsvc/cmd/testsvc",
        version: "v1.0.0",
        goVersion: "go1.23.5",
        goos: "linux",
        goarch: "amd64",
      },
      pid: 1234,
      startedAt: "2026-01-01T10:00:00.000Z",
      busy: undefined,
      state: emptyState(),
      lastCheck: undefined,
      nextUpdate: undefined,
      nextCheck: undefined,
      config,
      fleet: undefined,
      self: { version: "v0.1.0", path: "./ysco", argv: ["./ysco", "run"], platform: "linux-amd64" },
    };
  }

  status(): StatusView {
    return structuredClone(this.view);
  }
  check(): Promise<unknown> {
    this.calls.push("check");
    return Promise.resolve(undefined);
  }
  pause(): Promise<void> {
    this.calls.push("pause");
    return Promise.resolve();
  }
  unpause(): Promise<void> {
    this.calls.push("unpause");
    return Promise.resolve();
  }
  notify(): void {
    this.calls.push("notify");
  }
  cancelScheduled(which: "svc" | "self"): Promise<void> {
    this.calls.push(`cancel ${which}`);
    return Promise.resolve();
  }
  update(request: UpdateRequest): Promise<UpdateResult> {
    this.calls.push(`update ${request.which} ${request.version} ${request.goVersion}`);
    this.updates.push(request);
    const from = { version: this.view.svc.version, goVersion: this.view.svc.goVersion };
    return Promise.resolve({ outcome: "installed", from, to: request });
  }
  setConfig(config: Config): void {
    this.calls.push("setConfig");
    this.view.config = config;
  }
}

/** Starts an app over a fresh ys directory. */
export async function startApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = await tempDir("ysco-web-");
  const ys = join(dir.path, "ys");
  await Deno.mkdir(ys, { mode: 0o700 });
  const password = options.password ?? PASSWORD;
  await Deno.writeTextFile(join(ys, "password.txt"), password + "\n");
  const configFile = join(ys, "ysco.toml");
  const text = `auth_file = "${join(ys, "password.txt")}"\n${options.config ?? ""}`;
  await Deno.writeTextFile(configFile, text);
  const actions = new RecordingActions(parseConfig(text));
  const log: string[] = [];
  const clock = { now: Date.parse("2026-01-01T12:00:00Z") };
  const failures = new Counter("ysco_admin_auth_failures_total", "test");
  const app = createAdminApp({
    actions,
    password,
    dir: ys,
    argv: ["./ysco", "run", "./testsvc"],
    registry: new Registry(),
    authFailures: failures,
    serveMetrics: true,
    yscoVersion: "v0.1.0",
    log: createLogger({ level: "debug", write: (line) => log.push(line) }),
    now: () => clock.now,
    ...options.deps,
  });
  const request = async (path: string, init: RequestInit, remote: string, auth: boolean) => {
    const headers = new Headers(init.headers);
    if (auth && !headers.has("authorization")) {
      headers.set("Authorization", "Basic " + btoa(`admin:${password}`));
    }
    if (!headers.has("host")) headers.set("Host", "admin.test");
    return await app.request(`http://admin.test${path}`, { ...init, headers }, {
      remoteAddr: { transport: "tcp", hostname: remote, port: 40000 },
    });
  };
  const t: TestApp = {
    app,
    dir,
    configFile,
    actions,
    log,
    failures,
    clock,
    admin: (path, init = {}, remote = "127.0.0.1") => request(path, init, remote, true),
    anon: (path, init = {}, remote = "127.0.0.1") => request(path, init, remote, false),
    async token() {
      const page = await (await t.admin("/")).text();
      const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
      if (token === undefined) throw new Error("no form token on the page");
      return token;
    },
    async [Symbol.asyncDispose]() {
      await dir[Symbol.asyncDispose]();
    },
  };
  return t;
}

/** The body of a form post. */
export function form(fields: Record<string, string>): RequestInit {
  return {
    method: "POST",
    body: new URLSearchParams(fields),
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  };
}
