import { assert, assertEquals, assertMatch, assertRejects } from "./_assert.ts";
import {
  emptyState,
  HISTORY_LIMIT,
  readState,
  type State,
  StateError,
  statePath,
  withHistory,
  writeState,
} from "../src/state/state.ts";
import { Proc } from "../world/process.ts";
import { tempDir } from "../world/util.ts";

const SAMPLE: State = {
  ...emptyState(),
  pauseReason: "manually paused",
  scheduled: [{
    time: "2024-10-07T09:00:00.000Z",
    which: "svc",
    modPath: "example.com/testsvc",
    pkgDir: "/cmd/testsvc",
    version: "v1.0.1",
    goVersion: "go1.23.5",
    discovered: "2024-10-04T09:00:00.000Z",
  }],
  backoff: 2,
  backoffReason: "downloading: status 500",
  previousBinarySvc: "/srv/testsvc-v1.0.0-go1.23.5",
};

Deno.test("readState() returns what writeState() wrote, and the empty state when there is none", async () => {
  await using dir = await tempDir();
  assertEquals(await readState(dir.path), emptyState());
  await writeState(dir.path, SAMPLE);
  assertEquals(await readState(dir.path), SAMPLE);
  assertEquals(((await Deno.stat(statePath(dir.path))).mode ?? 0) & 0o777, 0o600);
  // Only the state file is left: no temporary files.
  const names = [];
  for await (const e of Deno.readDir(dir.path)) names.push(e.name);
  assertEquals(names, ["state.json"]);
});

Deno.test("readState() refuses a corrupt state file and leaves it alone", async () => {
  await using dir = await tempDir();
  const rows: Array<[string, RegExp]> = [
    // [file content, error]
    ["{", /^Cannot parse state file .*state\.json: .*; fix or move it away/],
    ["[]", /: not a JSON object;/],
    ['{"version": 7}', /: unknown format version 7;/],
    [
      JSON.stringify({ ...SAMPLE, version: 1, backoff: -1 }),
      /: "backoff" must be a non-negative integer;/,
    ],
    [
      JSON.stringify({
        ...SAMPLE,
        version: 1,
        scheduled: [{ ...SAMPLE.scheduled[0], which: "other" }],
      }),
      /scheduled update 1: "which" must be "svc" or "self"/,
    ],
    [
      JSON.stringify({
        ...SAMPLE,
        version: 1,
        scheduled: [{ ...SAMPLE.scheduled[0], time: "soon" }],
      }),
      /scheduled update 1: bad time/,
    ],
  ];
  for (const [content, want] of rows) {
    await Deno.writeTextFile(statePath(dir.path), content);
    const err = await readState(dir.path).then(() => undefined, (e) => e);
    assert(err instanceof StateError, content);
    assertMatch(err.message, want);
    assertEquals(await Deno.readTextFile(statePath(dir.path)), content);
  }
});

Deno.test("writeState() fails cleanly when the directory is not writable", async () => {
  await using dir = await tempDir();
  await assertRejects(writeState(`${dir.path}/missing`, SAMPLE), (err: unknown) => {
    assert(err instanceof StateError);
    assertMatch(err.message, /^Cannot write state file .*missing\/state\.json: No such file/);
    return true;
  });
});

Deno.test("withHistory() keeps the newest entries", () => {
  let s = emptyState();
  for (let i = 0; i < HISTORY_LIMIT + 5; i++) {
    s = withHistory(s, {
      time: new Date(i * 1000).toISOString(),
      which: "svc",
      from: { version: "v1.0.0", goVersion: "go1.23.5" },
      to: { version: `v1.0.${i}`, goVersion: "go1.23.5" },
      outcome: "installed",
      manual: false,
    });
  }
  assertEquals(s.history.length, HISTORY_LIMIT);
  assertEquals(s.history[0]?.to.version, "v1.0.5");
});

Deno.test("a kill -9 during state writes leaves the old or the new state, never a broken one", async () => {
  await using dir = await tempDir();
  const writer = new URL("./testdata/state_writer.ts", import.meta.url).pathname;
  let seed = 7;
  const seen = new Set<number>();
  for (let round = 0; round < 12; round++) {
    await using proc = new Proc(Deno.execPath(), ["run", "-A", writer, dir.path]);
    // Let it write for a varying while, then kill it without warning.
    const until = (await readCount(dir.path)) + 1 + (seed = (seed * 48271) % 2147483647) % 40;
    while ((await readCount(dir.path)) < until) await new Promise((r) => setTimeout(r, 1));
    proc.kill("SIGKILL");
    await proc.exit();
    const state = await readState(dir.path);
    assertEquals(
      state.backoffReason,
      String(state.backoff).repeat(1000 + (state.backoff % 50) * 1000),
    );
    seen.add(state.backoff);
  }
  assert(seen.size > 1, "the writer made progress between kills");
});

async function readCount(dir: string): Promise<number> {
  try {
    return (await readState(dir)).backoff;
  } catch (err) {
    if (err instanceof StateError) throw new Error(`broken state observed: ${err.message}`);
    throw err;
  }
}
