import { assertEquals } from "../_assert.ts";
import {
  classifyToolchains,
  goVersionOfToolchainModule,
  parseToolchainList,
} from "../../src/version/toolchains.ts";

Deno.test("goVersionOfToolchainModule() takes the Go version between prefix and platform", () => {
  assertEquals(goVersionOfToolchainModule("v0.0.1-go1.23.2.linux-amd64"), "go1.23.2");
  assertEquals(goVersionOfToolchainModule("v0.0.1-go1.23rc1.darwin-amd64"), "go1.23rc1");
  assertEquals(goVersionOfToolchainModule("v0.0.1-go1.22.7.windows-arm64"), "go1.22.7");
  assertEquals(goVersionOfToolchainModule("v0.0.2-go1.22.7.linux-amd64"), {
    error: 'missing prefix "v0.0.1-"',
  });
  assertEquals(goVersionOfToolchainModule("v0.0.1-go1"), { error: "missing platform suffix" });
});

Deno.test("classifyToolchains() finds current, previous and next", () => {
  const rows: Array<[string[], string, string, string]> = [
    // [versions, cur, prev, next]
    [["go1.23.2", "go1.22.8", "go1.24rc1"], "go1.23.2", "go1.22.8", "go1.24rc1"], // all three
    [["go1.22.8", "go1.23.2", "go1.23.1", "go1.22.7"], "go1.23.2", "go1.22.8", ""], // unordered input
    [["go1.23rc1", "go1.23.0", "go1.22.5"], "go1.23.0", "go1.22.5", ""], // the rc is older than the release
    [["go1.24beta1", "go1.24rc1", "go1.23.4"], "go1.23.4", "", "go1.24rc1"], // rc after beta; no prev
    [["go1.21.0", "go1.20", "go1.20.1", "go1.19"], "go1.21.0", "go1.20.1", ""], // old spelling go1.20
    [["go1.21rc2"], "", "", "go1.21rc2"], // only a prerelease
    [[], "", "", ""], // nothing
  ];
  for (const [versions, cur, prev, next] of rows) {
    assertEquals(classifyToolchains(versions), { cur, prev, next }, versions.join(","));
  }
});

Deno.test("parseToolchainList() deduplicates platforms and reports what it skips", () => {
  const lines = [
    "v0.0.1-go1.23.2.linux-amd64",
    "v0.0.1-go1.23.2.darwin-arm64",
    "v0.0.1-go1.22.8.linux-amd64",
    "v0.0.1-go1.24rc1.linux-amd64",
    "v0.0.1-go1.9.2rc2.linux-amd64", // the historical oddity
    "v0.0.1-go1.23.9-bigcorp.linux-amd64", // not canonical: never fetched as it is
    "v0.0.1-go1.21.0.linux-amd64",
    "garbage",
    "",
  ];
  const list = parseToolchainList(lines);
  assertEquals(list.toolchains, { cur: "go1.23.2", prev: "go1.22.8", next: "go1.24rc1" });
  assertEquals(list.versions, ["go1.24rc1", "go1.23.2", "go1.22.8", "go1.21.0"]);
  assertEquals(list.skipped, [
    { line: "v0.0.1-go1.9.2rc2.linux-amd64", reason: 'unrecognized Go version "go1.9.2rc2"' },
    {
      line: "v0.0.1-go1.23.9-bigcorp.linux-amd64",
      reason: 'unrecognized Go version "go1.23.9-bigcorp"',
    },
    { line: "garbage", reason: 'missing prefix "v0.0.1-"' },
  ]);
});
