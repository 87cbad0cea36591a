import {
  canaryCandidates,
  fleetKeys,
  parseHostState,
  parseTargetName,
  targetName,
} from "../../src/fleet/layout.ts";
import {
  type Admission,
  admit,
  canaries,
  canaryOrder,
  slotHolders,
  type TargetView,
} from "../../src/fleet/policy.ts";
import { assert, assertEquals } from "../_assert.ts";

const HALT = { version: "v1.0.1", goVersion: "go1.23.4", by: "b", reason: "boom", at: "" };

Deno.test("canaryOrder() is the same for any order of the same ids", () => {
  const ids = Array.from({ length: 50 }, (_, i) => `web-${i}`);
  const order = canaryOrder(ids);
  assertEquals(canaryOrder([...ids].reverse()), order);
  assertEquals(canaryOrder([...ids, ...ids.slice(0, 5)]), order, "duplicates count once");
  assertEquals([...order].sort(), [...ids].sort());
  // A hash, not the alphabetical order: the first hosts by name are not all canaries.
  assert(canaries(ids, 3).join() !== ["web-0", "web-1", "web-10"].join());
});

Deno.test("canaries() keeps its choice when unrelated hosts join or leave", () => {
  const ids = Array.from({ length: 20 }, (_, i) => `db-${i}`);
  const chosen = canaries(ids, 2);
  const others = ids.filter((id) => !chosen.includes(id));
  assertEquals(canaries(ids.filter((id) => id !== others[0]), 2), chosen);
  // A joining host becomes a canary only if it sorts before them.
  const joined = canaries([...ids, "db-new"], 2);
  assert(joined.join() === chosen.join() || joined.includes("db-new"));
});

Deno.test("admit() lets canaries go first and the rest after the soak, never while halted", () => {
  const hostIds = ["a", "b", "c", "d", "e"];
  const [first, second] = canaryOrder(hostIds);
  const rest = hostIds.find((id) => id !== first && id !== second) ?? "";
  const rows: Array<[TargetView, string, number, Admission["kind"], string]> = [
    // [view, host, canaries, admission, comment]
    [{ hostIds, soaked: 0 }, first ?? "", 1, "go", "the canary goes at once"],
    [{ hostIds, soaked: 0 }, rest, 1, "canaries", "the others wait for the soak"],
    [{ hostIds, soaked: 1 }, rest, 1, "go", "after one soak mark the others go"],
    [{ hostIds, soaked: 1 }, second ?? "", 2, "go", "the second of two canaries goes too"],
    [{ hostIds, soaked: 1 }, rest, 2, "canaries", "two canaries: one soak mark is not enough"],
    [{ hostIds, soaked: 0 }, rest, 0, "go", "no canaries: everyone goes"],
    [{ hostIds, soaked: 5, halt: HALT }, first ?? "", 1, "halted", "a halt stops canaries"],
    [{ hostIds, soaked: 5, halt: HALT }, rest, 0, "halted", "and everyone else"],
    [{ hostIds: [], soaked: 0 }, "solo", 1, "go", "a host not yet registered counts itself"],
    [{ hostIds: ["a"], soaked: 0 }, "a", 3, "go", "fewer hosts than canaries: all are canaries"],
  ];
  for (const [view, id, count, want, comment] of rows) {
    assertEquals(admit(view, id, count).kind, want, comment);
  }
  const waiting = admit({ hostIds, soaked: 0 }, rest, 1);
  assertEquals(waiting, { kind: "canaries", canaries: [first], soaked: 0, needed: 1 });
  assertEquals(admit({ hostIds, soaked: 0 }, first ?? "", 1), { kind: "go", canary: true });
});

Deno.test("slotHolders() are the first max_concurrent of the queue by create revision", () => {
  const queue = [
    { id: "c", createRevision: 30 },
    { id: "a", createRevision: 10 },
    { id: "d", createRevision: 40 },
    { id: "b", createRevision: 20 },
  ];
  assertEquals(slotHolders(queue, 2).map((q) => q.id), ["a", "b"]);
  assertEquals(slotHolders(queue, 1).map((q) => q.id), ["a"]);
  assertEquals(slotHolders(queue, 9).map((q) => q.id), ["a", "b", "c", "d"]);
});

Deno.test("targetName() round-trips versions through ASCII key names", () => {
  const rows = [
    // Plain release.
    { version: "v1.2.3", goVersion: "go1.23.4" },
    // Pre-release and build metadata with characters that need escaping.
    { version: "v2.0.0-rc.1+incompatible", goVersion: "go1.24rc1" },
    // Pseudo-version.
    { version: "v0.0.0-20240101120000-abcdef123456", goVersion: "go1.22.0" },
  ];
  for (const t of rows) {
    const name = targetName(t);
    assert(/^[\x21-\x7e]+$/.test(name) && !name.includes("/"), name);
    assertEquals(parseTargetName(name), t);
    assert(fleetKeys("g", "h/1", t).halt.endsWith(`/targets/${name}/halt`));
  }
  assertEquals(parseTargetName("no-at-sign"), undefined);
  assertEquals(fleetKeys("g", "h/1").host, "/ysco/fleet/g/hosts/h%2F1");
});

Deno.test("parseHostState() reads what gates publish and rejects other values", () => {
  const state = {
    id: "web-1",
    version: "v1.0.0",
    goVersion: "go1.23.4",
    healthy: true,
    updating: { version: "v1.0.1", goVersion: "go1.23.4", since: "2025-01-01T00:00:00.000Z" },
    lastError: "boom",
    paused: true,
    at: "2025-01-01T00:00:01.000Z",
  };
  assertEquals(parseHostState(JSON.stringify(state)), state);
  assertEquals(parseHostState("not json"), undefined);
  assertEquals(parseHostState('{"version":"v1"}'), undefined);
});

Deno.test("canaryCandidates() passes over hosts whose automatic updates are paused", () => {
  const host = (id: string, extra: Record<string, unknown> = {}) => ({
    key: `/ysco/fleet/web/hosts/${id}`,
    value: JSON.stringify({
      id,
      version: "v1.0.0",
      goVersion: "go1.23.4",
      healthy: true,
      ...extra,
    }),
  });
  const rows: Array<[Array<{ key: string; value: string }>, string[], string]> = [
    // [hosts, candidates, comment]
    [[host("a"), host("b")], ["a", "b"], "every registered host"],
    [[host("a", { paused: true }), host("b")], ["b"], "a paused host is no canary"],
    [[host("a", { paused: false }), host("b")], ["a", "b"], "paused false counts as running"],
    [
      [{ key: "/ysco/fleet/web/hosts/c", value: "junk" }],
      ["c"],
      "an unreadable state still counts",
    ],
  ];
  for (const [hosts, want, comment] of rows) assertEquals(canaryCandidates(hosts), want, comment);
});
