import { assertEquals } from "../_assert.ts";
import {
  canonicalSemver,
  compareSemver,
  isCanonicalVersion,
  isIncompatible,
  isPrerelease,
  isPseudoVersion,
  isValidSemver,
  parseSemver,
  semverMajor,
  semverMajorMinor,
  sortSemverDescending,
} from "../../src/version/semver.ts";
import { goOracle } from "../../world/go.ts";

// Versions in ascending order; equal neighbours are grouped in one inner list.
const ORDERED: string[][] = [
  [
    "bad",
    "",
    "1.2.3",
    "v1.2.x",
    "v01.2.3",
    "v1.02.3",
    "v1.2.03",
    "v1.2.3-",
    "v1.2.3-01",
    "v1.2.3+",
  ],
  ["v0.0.0-20191109021931-daa7c04131f5"],
  ["v0.0.0"],
  ["v0.1.0-rc.1"],
  ["v0.1.0"],
  ["v1.0.0-alpha"],
  ["v1.0.0-alpha.1"],
  ["v1.0.0-alpha.beta"],
  ["v1.0.0-beta"],
  ["v1.0.0-beta.2"],
  ["v1.0.0-beta.11"],
  ["v1.0.0-rc.1"],
  ["v1", "v1.0", "v1.0.0", "v1.0.0+meta"],
  ["v1.2.0", "v1.2"],
  ["v1.2.3-456"],
  ["v1.2.3-456.789"],
  ["v1.2.3-456-789"],
  ["v1.2.3-456a"],
  ["v1.2.3-pre", "v1.2.3-pre+meta"],
  ["v1.2.3-pre.1"],
  ["v1.2.3-zzz"],
  ["v1.2.3", "v1.2.3+meta", "v1.2.3+meta-pre.sha.256a"],
  ["v1.9.0"],
  ["v1.10.0"],
  ["v1.19.0"],
  ["v2.0.0+incompatible", "v2.0.0"],
  ["v10.0.0"],
  ["v123456789012345678901234567890.0.0"],
];

Deno.test("compareSemver() orders versions as Go's semver.Compare", () => {
  const flat = ORDERED.flatMap((group, g) => group.map((v) => ({ v, g })));
  for (const a of flat) {
    for (const b of flat) {
      const want = a.g === b.g ? 0 : a.g < b.g ? -1 : 1;
      assertEquals(compareSemver(a.v, b.v), want, `compareSemver(${a.v}, ${b.v})`);
    }
  }
});

Deno.test("parseSemver() accepts Go's shorthands and rejects the rest", () => {
  const rows: Array<[string, string]> = [
    // [input, canonical form or "" when invalid]
    ["v1", "v1.0.0"], // shorthand major
    ["v1.2", "v1.2.0"], // shorthand major.minor
    ["v1-pre", ""], // shorthands take no prerelease
    ["v1.2+meta", ""], // nor build metadata
    ["v1.2.3+incompatible", "v1.2.3"], // build metadata is dropped
    ["v1.2.3-rc.1+meta", "v1.2.3-rc.1"], // prerelease kept
    ["v1.2.3-a..b", ""], // empty identifier
    ["v1.2.3-a_b", ""], // invalid character
    ["V1.2.3", ""], // the v must be lowercase
    ["v1.2.3.4", ""], // four parts
  ];
  for (const [input, canonical] of rows) {
    assertEquals(canonicalSemver(input), canonical, input);
    assertEquals(isValidSemver(input), canonical !== "", input);
  }
  assertEquals(parseSemver("v1.2.3-rc.1+b"), {
    major: "1",
    minor: "2",
    patch: "3",
    prerelease: "-rc.1",
    build: "+b",
    short: "",
  });
});

Deno.test("semverMajor() and semverMajorMinor() give the prefixes", () => {
  assertEquals(semverMajor("v2.1.0"), "v2");
  assertEquals(semverMajorMinor("v2.1.0-pre"), "v2.1");
  assertEquals(semverMajorMinor("v2"), "v2.0");
  assertEquals(semverMajor("nonsense"), "");
});

Deno.test("isPrerelease(), isPseudoVersion() and isIncompatible() classify module versions", () => {
  const rows: Array<[string, boolean, boolean, boolean]> = [
    // [version, prerelease, pseudo, incompatible]
    ["v1.2.3", false, false, false],
    ["v1.2.3-rc.1", true, false, false],
    ["v0.0.0-20240102030405-abcdef123456", true, true, false], // no tag before
    ["v1.2.4-0.20240102030405-abcdef123456", true, true, false], // after v1.2.3
    ["v1.2.3-pre.0.20240102030405-abcdef123456", true, true, false], // after a prerelease
    ["v2.0.0+incompatible", false, false, true],
    ["v2.0.1-0.20240102030405-abcdef123456+incompatible", true, true, true],
  ];
  for (const [v, pre, pseudo, incompatible] of rows) {
    assertEquals(isPrerelease(v), pre, `isPrerelease(${v})`);
    assertEquals(isPseudoVersion(v), pseudo, `isPseudoVersion(${v})`);
    assertEquals(isIncompatible(v), incompatible, `isIncompatible(${v})`);
  }
});

Deno.test("sortSemverDescending() puts the newest first", () => {
  assertEquals(
    sortSemverDescending(["v1.0.0", "v1.10.0", "v1.2.0-rc.1", "v1.2.0", "v0.9.0"]),
    ["v1.10.0", "v1.2.0", "v1.2.0-rc.1", "v1.0.0", "v0.9.0"],
  );
});

Deno.test("isCanonicalVersion() takes only versions as Go's module.CanonicalVersion spells them", () => {
  const rows: Array<[string, boolean]> = [
    ["v1.2.0", true],
    ["v1.2.0-rc.1", true],
    ["v0.0.0-20240102030405-abcdef123456", true],
    ["v2.0.0+incompatible", true],
    // Shorthands name no version that can be fetched.
    ["v1", false],
    ["v1.2", false],
    ["v2.0+incompatible", false],
    // Other build metadata is dropped by the canonical form.
    ["v1.2.0+meta", false],
    ["1.2.0", false],
    ["", false],
  ];
  for (const [v, want] of rows) assertEquals(isCanonicalVersion(v), want, v);
});

Deno.test("semver functions agree with Go's golang.org/x/mod on random versions", async () => {
  const versions = randomVersions(400);
  const pairs = versions.map((v, i) => [v, versions[(i * 7 + 3) % versions.length] ?? ""] as const);
  const answers = await goOracle([
    ...pairs.map(([a, b]) => ["semver.compare", a, b]),
    ...versions.map((v) => ["semver.canonical", v]),
    ...versions.map((v) => ["module.ispseudo", v]),
  ]);
  const ours = [
    ...pairs.map(([a, b]) => String(compareSemver(a, b))),
    ...versions.map((v) => canonicalSemver(v)),
    ...versions.map((v) => String(isPseudoVersion(v))),
  ];
  for (const [i, want] of answers.entries()) {
    assertEquals(ours[i], want, `request ${i}`);
  }
  // module.CanonicalVersion(v) == v: semver.Canonical, with "+incompatible" kept.
  for (const [i, v] of versions.entries()) {
    const canonical = answers[pairs.length + i] ?? "";
    const goCanonical = canonical !== "" && isIncompatible(v)
      ? canonical + "+incompatible"
      : canonical;
    assertEquals(isCanonicalVersion(v), v !== "" && goCanonical === v, v);
  }
});

/** Versions built from a grammar that mixes valid and invalid pieces. */
function randomVersions(n: number): string[] {
  let seed = 42;
  const rnd = (k: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % k;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
  const nums = ["0", "1", "2", "9", "10", "11", "01", "123", ""];
  const pres = [
    "",
    "",
    "-rc.1",
    "-rc.2",
    "-alpha",
    "-0.20240102030405-abcdef123456",
    "-1",
    "-01",
    "-a.b",
    "-x-y",
    "-",
  ];
  const builds = ["", "", "", "+incompatible", "+meta", "+"];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts = [pick(nums), pick(nums), pick(nums)].slice(0, 1 + rnd(3));
    out.push(pick(["v", "v", "v", "", "V"]) + parts.join(".") + pick(pres) + pick(builds));
  }
  return out;
}
