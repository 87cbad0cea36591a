/**
 * Shared set-up of the verification tests: a test gobuild server holding real Go
 * builds of the test service, a cache directory, and clients of the server's log.
 *
 * @module
 */

export { exists } from "../src/exists.ts";
import { join } from "node:path";
import { goBuild, TESTSVC } from "./go.ts";
import { type AddedBuild, type GobuildServer, startGobuildServer } from "./gobuild_server.ts";
import { tempDir } from "./util.ts";
import type { BuildSpec } from "../src/verify/buildspec.ts";
import type { SecurityError } from "../src/verify/errors.ts";
import { TlogClient } from "../src/verify/tlog_client.ts";
import { httpTlogOps } from "../src/verify/tlog_ops.ts";

/** The spec of a build of the test service's command. */
export function testsvcSpec(version: string): BuildSpec {
  return {
    mod: TESTSVC,
    version,
    dir: "/cmd/testsvc",
    goos: "linux",
    goarch: "amd64",
    goversion: "go1.23.5",
    stripped: true,
  };
}

/** A server with builds of v1.0.0 and v1.0.1 (and filler records), and a cache directory. */
export interface Fixture extends AsyncDisposable {
  server: GobuildServer;
  /** The ys directory (the cache is below it). */
  dir: string;
  builds: AddedBuild[];
  /** A new client of the server's log with the cache in dir; security errors are collected. */
  client(options?: { timeoutMs?: number; key?: string; dir?: string }): Client;
  /** The stored latest tree note, as text ("" when absent). */
  storedNote(dir?: string): Promise<string>;
}

/** A client and the security errors it reported. */
export interface Client {
  tlog: TlogClient;
  security: SecurityError[];
}

/** Starts the fixture; `filler` unrelated records come before the builds. */
export async function fixture(filler = 3): Promise<Fixture> {
  const server = await startGobuildServer();
  const dir = await tempDir("ysco-verify-");
  for (let i = 0; i < filler; i++) server.addRecord(`filler record ${i}\n`);
  const builds: AddedBuild[] = [];
  for (const version of ["v1.0.0", "v1.0.1"]) {
    builds.push(await server.addBuild(testsvcSpec(version), await goBuild({ version })));
  }
  return {
    server,
    dir: dir.path,
    builds,
    client(options = {}) {
      const key = options.key ?? server.verifierKey;
      const security: SecurityError[] = [];
      const tlog = new TlogClient(key, {
        ops: httpTlogOps({
          baseUrl: server.tlogUrl,
          dir: options.dir ?? dir.path,
          name: key.split("+")[0] ?? "",
          timeoutMs: options.timeoutMs ?? 30_000,
        }),
        onSecurityError: (err) => security.push(err),
      });
      return { tlog, security };
    },
    async storedNote(d = dir.path) {
      const file = join(d, "gobuildverifiercache", "localhost", "config", "localhost", "latest");
      return await Deno.readTextFile(file).catch(() => "");
    },
    async [Symbol.asyncDispose]() {
      await server.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** The lookup cache file of a spec's key (trailing slash dropped). */
export function lookupCacheFile(dir: string, key: string): string {
  return join(
    dir,
    "gobuildverifiercache",
    "localhost",
    "cache",
    "localhost",
    "lookup",
    key.slice(0, -1),
  );
}
