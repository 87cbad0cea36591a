import { join } from "node:path";
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { goBuild } from "../../world/go.ts";
import { poll } from "../../world/process.ts";
import type { Fault } from "../../world/gobuild_server.ts";
import { HttpStatusError, VerificationError } from "../../src/verify/errors.ts";
import { downloadBinary } from "../../src/verify/download.ts";
import { fixture, testsvcSpec } from "../../world/tlog_fixture.ts";

async function sha256Hex(path: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("downloadBinary() writes the verified binary to a temporary file next to the destination", async () => {
  await using f = await fixture(0);
  const build = f.builds[0];
  assert(build);
  const dest = join(f.dir, "testsvc");
  const got = await downloadBinary({ url: build.url, record: build.record, dest });
  assertMatch(got.path, /\/ysco\.testsvc-v1\.0\.0-go1\.23\.5-stripped\.[0-9a-f]{12}$/);
  assertEquals(join(got.path, ".."), f.dir);
  assertEquals(got.sum, build.record.sum);
  assertEquals(got.size, build.record.size);
  assertEquals(got.sha256, build.sha256);
  assertEquals(await sha256Hex(got.path), await sha256Hex(await goBuild({ version: "v1.0.0" })));
  // Mode: 0666 minus umask, with execute bits where read bits are.
  const umask = Deno.umask();
  const base = 0o666 & ~umask;
  const mode = base | ((base & 0o444) >> 2);
  assertEquals(((await Deno.stat(got.path)).mode ?? 0) & 0o7777, mode);
  assertEquals(got.mode, mode);
  assertEquals(await listDir(f.dir), [got.path.split("/").pop()]);
});

Deno.test("downloadBinary() copies the mode of a reference file", async () => {
  await using f = await fixture(0);
  const build = f.builds[0];
  assert(build);
  const current = join(f.dir, "testsvc");
  await Deno.writeTextFile(current, "old binary\n");
  await Deno.chmod(current, 0o750);
  const got = await downloadBinary({ url: build.url, record: build.record, dest: current }, {
    modeFrom: current,
  });
  assertEquals(got.mode, 0o750);
  assertEquals(((await Deno.stat(got.path)).mode ?? 0) & 0o7777, 0o750);
  assertEquals(await Deno.readTextFile(current), "old binary\n");
});

Deno.test("downloadBinary() fails on each misbehaviour, removes its temporary file and changes nothing", async (t) => {
  const rows: Array<{
    name: string;
    fault?: Fault;
    size?: number; // record size relative to the real one
    sum?: string;
    error: RegExp;
    type?: new (...args: never[]) => Error;
    timeoutMs?: number;
  }> = [
    {
      name: "wrong sum in the record",
      sum: "0" + "A".repeat(27),
      error: /downloaded binary has sum 0[\w-]{27}, expected 0AAAA/,
      type: VerificationError,
    },
    {
      name: "record size too large",
      size: 1,
      error: /: \d+ bytes, its record says \d+$/,
      type: VerificationError,
    },
    {
      name: "record size too small",
      size: -1,
      error: /more than the \d+ bytes of its record/,
      type: VerificationError,
    },
    { name: "truncated gzip", fault: "truncate", error: /reading or decompressing: / },
    { name: "corrupt gzip", fault: "corrupt", error: /reading or decompressing: / },
    { name: "hang", fault: "hang", error: /no complete answer within 500 ms/ },
    { name: "stall", fault: "stall", error: /no complete answer within 500 ms/ },
    {
      name: "500",
      fault: "status500",
      error: /: status 500 \(internal error for \//,
      type: HttpStatusError,
    },
    { name: "404", fault: "status404", error: /: status 404 \(not found\)/, type: HttpStatusError },
    {
      name: "endless body",
      fault: "endless",
      error: /more than the \d+ bytes of its record/,
      type: VerificationError,
      // Streaming past the record's size takes a moment on a busy machine.
      timeoutMs: 30_000,
    },
  ];
  const binary = await goBuild({ version: "v1.0.0" });
  const realSize = (await Deno.stat(binary)).size;
  for (const row of rows) {
    await t.step(row.name, async () => {
      await using f = await fixture(0);
      const overrides = {
        ...(row.size !== undefined ? { size: realSize + row.size } : {}),
        ...(row.sum !== undefined ? { sum: row.sum } : {}),
      };
      const build = await f.server.addBuild(testsvcSpec("v1.1.0"), binary, overrides);
      if (row.fault) f.server.faults.download = row.fault;
      const dest = join(f.dir, "testsvc");
      await Deno.writeTextFile(dest, "current binary\n");
      const before = await listDir(f.dir);
      const err = await downloadBinary({ url: build.url, record: build.record, dest }, {
        timeoutMs: row.timeoutMs ?? 500,
        modeFrom: dest,
      }).then(() => undefined, (e) => e);
      assert(err instanceof (row.type ?? Error), `${row.name}: ${err}`);
      assertMatch(
        err.message,
        /^Cannot download binary "http:\/\/127\.0\.0\.1:\d+\/example\.com\/testsvc@v1\.1\.0\//,
      );
      assertMatch(err.message, row.error);
      assertEquals(await listDir(f.dir), before);
      assertEquals(await Deno.readTextFile(dest), "current binary\n");
    });
  }
});

Deno.test("downloadBinary() stops at once when aborted mid-download and removes its temporary file", async (t) => {
  const binary = await goBuild({ version: "v1.0.0" });
  // "stall": half the body, then nothing; "endless": a body that keeps coming. The
  // record's size is raised so that the endless body cannot fail on its own first.
  for (const fault of ["stall", "endless"] as const) {
    await t.step(fault, async () => {
      await using f = await fixture(0);
      const build = await f.server.addBuild(testsvcSpec("v1.1.0"), binary, { size: 2 ** 40 });
      f.server.faults.download = fault;
      const controller = new AbortController();
      const download = downloadBinary(
        { url: build.url, record: build.record, dest: join(f.dir, "testsvc") },
        // Far beyond the test's own limits: only the abort can end it.
        { signal: controller.signal, timeoutMs: 3_600_000 },
      ).then(() => undefined, (e) => e);
      // Mid-download: the temporary file has data.
      const tmp = await poll("data in the temporary file", async () => {
        for (const name of await listDir(f.dir)) {
          const size = (await Deno.stat(join(f.dir, name)).catch(() => undefined))?.size ?? 0;
          if (size > 0) return name;
        }
        return undefined;
      }, 60_000);
      assertMatch(tmp, /^ysco\.testsvc-v1\.1\.0-go1\.23\.5-stripped\./);
      const reason = new DOMException("stopping", "AbortError");
      controller.abort(reason);
      // At once: a download that ignored the abort would still be running after a minute.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise((r) => timer = setTimeout(() => r("still running"), 60_000));
      assertEquals(await Promise.race([download, late]), reason);
      clearTimeout(timer);
      assertEquals(await listDir(f.dir), []);
    });
  }
  await t.step("already aborted", async () => {
    await using f = await fixture(0);
    const build = f.builds[0];
    assert(build);
    const err = await downloadBinary(
      { url: build.url, record: build.record, dest: join(f.dir, "testsvc") },
      { signal: AbortSignal.abort() },
    ).then(() => undefined, (e) => e);
    assert(err instanceof DOMException && err.name === "AbortError", String(err));
    assertEquals(await listDir(f.dir), []);
    assertEquals(f.server.requests.filter((r) => r.route === "download"), []);
  });
});
