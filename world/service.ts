/**
 * A deployment directory for `ysco run` tests: the test service installed as a
 * versioned binary with a short symlink (as `ysco init` sets it up), and `ys/` with a
 * configuration and password file.
 *
 * @module
 */

import { join } from "node:path";
import { readBuildInfo } from "../src/buildinfo/mod.ts";
import { goBuild, type GoBuildOptions } from "./go.ts";

/** The admin password the test deployments use. */
export const TEST_PASSWORD = "test1234";

/**
 * Installs a build of the test service in dir as `testsvc-VERSION-GOVERSION` with the
 * symlink `testsvc` to it, and returns "./testsvc".
 */
export async function installService(
  dir: string,
  build: GoBuildOptions,
  options: { symlink?: boolean } = {},
): Promise<string> {
  const src = await goBuild(build);
  const info = await readBuildInfo(src);
  const name = `testsvc-${info.main.version}-${info.goVersion}`;
  await Deno.copyFile(src, join(dir, name));
  await Deno.chmod(join(dir, name), 0o755);
  if (options.symlink === false) {
    await Deno.rename(join(dir, name), join(dir, "testsvc"));
  } else {
    await Deno.symlink(name, join(dir, "testsvc"));
  }
  return "./testsvc";
}

/** Writes ys/ysco.toml (auth_file filled in unless the text sets it) and ys/password.txt. */
export async function writeYsDir(dir: string, config = ""): Promise<string> {
  const ys = join(dir, "ys");
  await Deno.mkdir(ys, { recursive: true, mode: 0o700 });
  await Deno.writeTextFile(join(ys, "password.txt"), TEST_PASSWORD + "\n", { mode: 0o600 });
  const auth = /^auth_file\s*=/m.test(config) ? "" : 'auth_file = "ys/password.txt"\n';
  await Deno.writeTextFile(join(ys, "ysco.toml"), auth + config);
  return ys;
}

/** Requests to a ysco admin server as the admin, the way the tests talk to it. */
export interface AdminClient<Json = Record<string, unknown>> {
  /** A request with the password; redirects are not followed. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** GET /json. */
  status(): Promise<Json>;
  /** Posts a form of the status page (with the page's CSRF token). */
  postForm(fields: Record<string, string>): Promise<Response>;
}

/** An admin client for the server on 127.0.0.1:port; label prefixes error messages. */
export function adminClient<Json = Record<string, unknown>>(
  port: number,
  label = "",
): AdminClient<Json> {
  const auth = "Basic " + btoa(`admin:${TEST_PASSWORD}`);
  const prefix = label === "" ? "" : `${label}: `;
  const admin = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("Authorization", auth);
    return fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers, redirect: "manual" });
  };
  return {
    admin,
    async status() {
      const res = await admin("/json");
      if (!res.ok) throw new Error(`${prefix}GET /json: ${res.status} ${await res.text()}`);
      return await res.json();
    },
    async postForm(fields) {
      const page = await (await admin("/")).text();
      const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
      if (token === undefined) throw new Error(`${prefix}no csrf token on the page`);
      return await admin("/", {
        method: "POST",
        body: new URLSearchParams({ csrf: token, ...fields }),
      });
    },
  };
}
