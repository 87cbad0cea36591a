import { assertEquals, assertThrows } from "../_assert.ts";
import {
  binaryUrl,
  type BuildSpec,
  buildSpecKey,
  checkRecordMatches,
  downloadBaseUrl,
  formatRecord,
  parseRecord,
  tlogBaseUrl,
  versionFileName,
} from "../../src/verify/buildspec.ts";
import { binarySum } from "../../src/verify/download.ts";
import { A9_BUILDS } from "../../world/a9.ts";

const MOXTOOLS: BuildSpec = {
  mod: "github.com/mjl-/moxtools",
  version: "v0.0.5",
  dir: "/",
  goos: "linux",
  goarch: "amd64",
  goversion: "go1.23.3",
  stripped: true,
};

Deno.test("buildSpecKey() and versionFileName() follow gobuild's naming", () => {
  const rows: Array<[BuildSpec, string, string]> = [
    // Module root, stripped.
    [
      MOXTOOLS,
      "github.com/mjl-/moxtools@v0.0.5/linux-amd64-go1.23.3-stripped/",
      "moxtools-v0.0.5-go1.23.3-stripped",
    ],
    // A command in the module, for windows, not stripped.
    [
      {
        ...MOXTOOLS,
        mod: "example.com/mod",
        version: "v1.2.3",
        dir: "/cmd/tool",
        goos: "windows",
        goversion: "go1.24.2",
        stripped: false,
      },
      "example.com/mod@v1.2.3/cmd/tool/windows-amd64-go1.24.2/",
      "tool-v1.2.3-go1.24.2.exe",
    ],
    // Major version suffix: the name is the last element of the module path.
    [
      { ...MOXTOOLS, mod: "example.com/x/v2", version: "v2.0.0", goarch: "arm64" },
      "example.com/x/v2@v2.0.0/linux-arm64-go1.23.3-stripped/",
      "v2-v2.0.0-go1.23.3-stripped",
    ],
  ];
  for (const [spec, key, name] of rows) {
    assertEquals(buildSpecKey(spec), key);
    assertEquals(versionFileName(spec), name);
  }
});

Deno.test("buildSpecKey() refuses fields that would escape URLs or cache paths", () => {
  const bad: Array<Partial<BuildSpec>> = [
    { mod: "example.com/../x" },
    { mod: "nodot/x" },
    { mod: "/example.com/x" },
    { version: "v1/../../x" },
    { version: "v1.0.0?x" },
    { dir: "cmd/x" },
    { dir: "/cmd/../x" },
    { dir: "/cmd/x/" },
    { goos: "linux-gnu" },
    { goarch: "" },
    { goversion: "1.23" },
    { goversion: "go1.23/x" },
  ];
  for (const b of bad) {
    assertThrows(
      () => buildSpecKey({ ...MOXTOOLS, ...b }),
      SyntaxError,
      undefined,
      JSON.stringify(b),
    );
  }
});

Deno.test("parseRecord() reads 9-field and 8-field records and formatRecord() writes them", () => {
  for (const b of A9_BUILDS) {
    const r = parseRecord(b.text);
    assertEquals({ ...r, size: undefined, sum: undefined }, {
      ...b.spec,
      size: undefined,
      sum: undefined,
    });
    assertEquals(r.size, new TextEncoder().encode(b.binary).length);
    assertEquals(formatRecord(r), b.text);
  }
  // Records from before 2023 have no variant field: not stripped.
  const old = parseRecord(
    "github.com/mjl-/ysco v0.1.0 / linux amd64 go1.23.3 11 0JOuoOVwxrMrz7aUQ3N0ltYXlYbQ\n",
  );
  assertEquals(old.stripped, false);
  assertEquals(old.size, 11);
});

Deno.test("parseRecord() rejects malformed records", () => {
  const good =
    "github.com/mjl-/ysco v0.1.0 / linux amd64 go1.23.3 11 02s6CNxUluBcpMp1tV5vHg--VzWo stripped\n";
  const rows = [
    good.slice(0, -1), // no newline
    good + good, // two lines
    good.replace(" stripped", " striped"), // bad variant
    good.replace(" 11 ", " 011 "), // leading zero
    good.replace(" 11 ", " -11 "),
    good.replace(" 11 ", " 0 "),
    good.replace(" 11 ", " 99999999999999999999 "),
    good.replace("02s6C", "12s6C"), // sum format version
    good.replace("--VzWo", "--VzW"), // short sum
    good.replace(" / ", " cmd "), // dir without slash
    good.replace(" / ", "  "), // empty field
    good.replace(" stripped", " stripped extra"), // 10 fields
    good.replace("linux", "li\u0000nux"),
  ];
  for (const text of rows) {
    assertThrows(() => parseRecord(text), SyntaxError, undefined, JSON.stringify(text));
  }
});

Deno.test("checkRecordMatches() requires all seven spec fields to match", () => {
  const record = { ...MOXTOOLS, size: 5, sum: "02s6CNxUluBcpMp1tV5vHg--VzWo" };
  checkRecordMatches(MOXTOOLS, record);
  const fields: Array<Partial<BuildSpec>> = [
    { mod: "github.com/mjl-/other" },
    { version: "v0.0.6" },
    { dir: "/cmd/x" },
    { goos: "darwin" },
    { goarch: "arm64" },
    { goversion: "go1.23.4" },
    { stripped: false },
  ];
  for (const f of fields) {
    assertThrows(() => checkRecordMatches({ ...MOXTOOLS, ...f }, record), {
      name: "VerificationError",
      message: /^Cannot use record for github\.com\/mjl-\/moxtools@v0\.0\.5 /,
    });
  }
});

Deno.test("URLs derive from the key name and the configured base URL", () => {
  assertEquals(tlogBaseUrl("beta.gobuilds.org"), "https://beta.gobuilds.org/tlog");
  assertEquals(tlogBaseUrl("localhost"), "http://localhost:8000/tlog");
  assertEquals(tlogBaseUrl("x", "http://127.0.0.1:9/tlog//"), "http://127.0.0.1:9/tlog");
  assertEquals(downloadBaseUrl("https://beta.gobuilds.org/tlog"), "https://beta.gobuilds.org");
  assertEquals(downloadBaseUrl("https://example.com/gobuild"), "https://example.com/gobuild");
  assertEquals(
    binaryUrl("https://beta.gobuilds.org/tlog", { ...MOXTOOLS, size: 1, sum: "0AbC" }),
    "https://beta.gobuilds.org/github.com/mjl-/moxtools@v0.0.5/linux-amd64-go1.23.3-stripped/0AbC/moxtools-v0.0.5-go1.23.3-stripped.gz",
  );
});

Deno.test("binarySum() is gobuild's sum of a SHA-256 (docs/protocols.md section 3.3)", () => {
  const sha = "6e838296d63d9c816d76202107ffbb7266e23bece19002843a85fdd78ff4b038";
  const bytes = new Uint8Array(sha.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
  assertEquals(binarySum(bytes), "0boOCltY9nIFtdiAhB_-7cmbiO-w");
});
