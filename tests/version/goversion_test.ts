import { assertEquals } from "../_assert.ts";
import {
  compareGoVersion,
  goVersionBase,
  goVersionLine,
  isCanonicalGoVersion,
  isGoRelease,
  isValidGoVersion,
  parseGoVersion,
} from "../../src/version/goversion.ts";
import { goOracle } from "../../world/go.ts";

// Ascending; equal versions share a group.
const ORDERED: string[][] = [
  ["", "bad", "1.21.0", "go", "go1.9.2rc2", "go1.21.0rc1", "go01.21", "go1.021"],
  ["go1"],
  ["go1.9", "go1.9.0"],
  ["go1.9.2"],
  ["go1.19", "go1.19.0"],
  ["go1.20beta1"],
  ["go1.20rc1"],
  ["go1.20", "go1.20.0"],
  ["go1.21"], // from go1.21 on the bare version is the language version
  ["go1.21beta1"],
  ["go1.21rc1"],
  ["go1.21rc2"],
  ["go1.21.0", "go1.21.0-bigcorp"],
  ["go1.21.1"],
  ["go1.21.10"],
  ["go1.22rc1"],
  ["go1.22.3"],
  ["go2"],
];

Deno.test("compareGoVersion() orders toolchains as Go's go/version.Compare", () => {
  const flat = ORDERED.flatMap((group, g) => group.map((v) => ({ v, g })));
  for (const a of flat) {
    for (const b of flat) {
      const want = a.g === b.g ? 0 : a.g < b.g ? -1 : 1;
      assertEquals(compareGoVersion(a.v, b.v), want, `compareGoVersion(${a.v}, ${b.v})`);
    }
  }
});

Deno.test("parseGoVersion() splits minor, patch and prerelease", () => {
  assertEquals(parseGoVersion("go1.22.3"), {
    major: "1",
    minor: "22",
    patch: "3",
    kind: "",
    pre: "",
  });
  assertEquals(parseGoVersion("go1.21rc1"), {
    major: "1",
    minor: "21",
    patch: "",
    kind: "rc",
    pre: "1",
  });
  assertEquals(parseGoVersion("go1.20beta2"), {
    major: "1",
    minor: "20",
    patch: "",
    kind: "beta",
    pre: "2",
  });
  assertEquals(parseGoVersion("go1.9"), { major: "1", minor: "9", patch: "0", kind: "", pre: "" });
  assertEquals(parseGoVersion("go1.20"), {
    major: "1",
    minor: "20",
    patch: "0",
    kind: "",
    pre: "",
  });
  assertEquals(parseGoVersion("go1.21"), { major: "1", minor: "21", patch: "", kind: "", pre: "" });
  // Go rejects prereleases of patch releases, so the historical go1.9.2rc2 is invalid.
  assertEquals(parseGoVersion("go1.9.2rc2"), undefined);
  assertEquals(isValidGoVersion("go1.23.5"), true);
});

Deno.test("isGoRelease() and goVersionLine() describe a toolchain", () => {
  const rows: Array<[string, boolean, string]> = [
    // [version, final release, release line]
    ["go1.23.5", true, "go1.23"],
    ["go1.20", true, "go1.20"], // before go1.21 the first release has no ".0"
    ["go1.21", false, "go1.21"], // a language version, not a release
    ["go1.24rc2", false, "go1.24"],
    ["nonsense", false, ""],
  ];
  for (const [v, release, line] of rows) {
    assertEquals(isGoRelease(v), release, v);
    assertEquals(goVersionLine(v), line, v);
  }
});

Deno.test("compareGoVersion() agrees with Go's go/version on generated versions", async () => {
  const versions: string[] = [];
  for (const major of ["1", "2", "01", ""]) {
    for (const minor of ["", ".0", ".9", ".20", ".21", ".22", ".100", ".05"]) {
      for (
        const tail of ["", ".0", ".1", ".12", "rc1", "rc2", "beta1", "alpha3", "rc", ".1rc1", "x1"]
      ) {
        versions.push(`go${major}${minor}${tail}`);
      }
    }
  }
  const pairs = versions.flatMap((a, i) =>
    [versions[(i * 13 + 5) % versions.length], versions[(i * 31 + 1) % versions.length]].map((b) =>
      [a, b ?? ""] as const
    )
  );
  const answers = await goOracle([
    ...pairs.map(([a, b]) => ["gover.compare", a, b]),
    ...versions.map((v) => ["gover.valid", v]),
  ]);
  const ours = [
    ...pairs.map(([a, b]) => String(compareGoVersion(a, b))),
    ...versions.map((v) => String(isValidGoVersion(v))),
  ];
  assertEquals(ours, answers);
});

Deno.test("goVersionBase() reads a binary's Go version as the release it is based on", async () => {
  const rows: Array<[string, string | undefined, boolean]> = [
    // [Go version, base, canonical]
    ["go1.23.5", "go1.23.5", true],
    ["go1.24rc1", "go1.24rc1", true],
    // A GOEXPERIMENT build (runtime.Version()).
    ["go1.23.5 X:nocoverageredesign", "go1.23.5", false],
    ["go1.22.5 X:boringcrypto,nocoverageredesign", "go1.22.5", false],
    // A vendor toolchain: Go ignores the suffix.
    ["go1.23.4-bigcorp", "go1.23.4", false],
    ["go1.23.4-bigcorp X:loopvar", "go1.23.4", false],
    // No version in front.
    ["devel go1.24-1a2b3c4 Tue Jan 7 10:00:00 2025 +0000", undefined, false],
    ["", undefined, false],
    [" go1.23.5", undefined, false],
    ["go1.23.05", undefined, false],
    ["go1.23.5\tX:x", undefined, false],
  ];
  for (const [v, base, canonical] of rows) {
    assertEquals(goVersionBase(v), base, v);
    assertEquals(isCanonicalGoVersion(v), canonical, v);
  }
  // What it returns is a version Go accepts.
  const bases = rows.flatMap(([, base]) => base === undefined ? [] : [base]);
  assertEquals(
    await goOracle(bases.map((b) => ["gover.valid", b])),
    bases.map(() => "true"),
  );
});
