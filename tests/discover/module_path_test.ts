import { assertEquals, assertThrows } from "../_assert.ts";
import { goOracle } from "../../world/go.ts";
import {
  checkModulePath,
  escapeModulePath,
  escapeModuleVersion,
  nextMajorPath,
  splitPathMajor,
} from "../../src/discover/module_path.ts";

// Module paths for the differential tests: valid ones and every rule of CheckPath.
const PATHS = [
  "github.com/mjl-/mox",
  "github.com/BurntSushi/toml",
  "github.com/Azure/go-autorest/autorest",
  "gopkg.in/yaml.v3",
  "gopkg.in/yaml.v0",
  "gopkg.in/yaml.v1",
  "gopkg.in/yaml.v01",
  "gopkg.in/yaml",
  "gopkg.in/check.v1-unstable",
  "github.com/foo/bar/v2",
  "github.com/foo/bar/v1",
  "github.com/foo/bar/v0",
  "github.com/foo/bar/v02",
  "github.com/foo/bar/v2.0",
  "github.com/foo/bar/v2/sub",
  "example.com/a_b/c~d",
  "example.com/-lead/trail-",
  "golang.org/x/mod",
  "golang.org/toolchain",
  "xn--74h.example/test",
  "example.com",
  "example.com/",
  "/example.com/x",
  "example.com//x",
  "example.com/./x",
  "example.com/../x",
  "example.com/.x",
  "example.com/x.",
  "example.com/x/...",
  "-example.com/x",
  "example/x",
  "Example.com/x",
  "ex_ample.com/x",
  "ex~ample.com/x",
  "example.com/x y",
  "example.com/x+y",
  "example.com/x@v1",
  "example.com/x!",
  "example.com/caf\u00e9",
  "example.com/\u2603",
  "example.com/x\u007f",
  "example.com/con",
  "example.com/COM1.txt",
  "example.com/lpt9",
  "example.com/conx",
  "example.com/prog~1",
  "example.com/prog~1a",
  "example.com/prog~",
  'example.com/x"y',
  "example.com/x'y",
  "example.com/x\\y",
  "",
  "-",
  ".",
  "a.b",
  "a.b/v2",
  "a.b/v3/v4",
];

Deno.test("checkModulePath() agrees with Go's module.CheckPath, message and all", async () => {
  const want = await goOracle(PATHS.map((p) => ["module.checkpath", p]));
  for (const [i, path] of PATHS.entries()) {
    assertEquals(checkModulePath(path) ?? "ok", want[i], JSON.stringify(path));
  }
});

Deno.test("escapeModulePath() agrees with Go's module.EscapePath", async () => {
  const want = await goOracle(PATHS.map((p) => ["module.escapepath", p]));
  for (const [i, path] of PATHS.entries()) {
    let got: string;
    try {
      got = escapeModulePath(path);
    } catch (err) {
      got = `error: ${(err as Error).message}`;
    }
    assertEquals(got, want[i], JSON.stringify(path));
  }
});

Deno.test("escapeModuleVersion() agrees with Go's module.EscapeVersion", async () => {
  const versions = [
    "v1.0.0",
    "v1.0.0-RC1",
    "v1.0.0-rc1",
    "v1.2.3+incompatible",
    "v0.0.0-20240102030405-ABCdef123456",
    "v1.0.0!",
    "v1/0",
    "",
    ".",
    "v1.0.0 x",
    "v1.0.0-\u00e9",
    "v1.0.0-\u2603",
    "con",
    "v1.0.0~1",
    "v1.0.0.",
    "-v1",
  ];
  const want = await goOracle(versions.map((v) => ["module.escapeversion", v]));
  for (const [i, v] of versions.entries()) {
    let got: string;
    try {
      got = escapeModuleVersion(v);
    } catch (err) {
      got = `error: ${(err as Error).message}`;
    }
    assertEquals(got, want[i], JSON.stringify(v));
  }
});

Deno.test("escapeModulePath() gives the proxy escaping of docs/protocols.md section 2.2", () => {
  const rows: Array<[string, string]> = [
    // [module path, escaped]
    ["github.com/Azure/azure-sdk-for-go", "github.com/!azure/azure-sdk-for-go"],
    ["github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"],
    ["golang.org/x/mod", "golang.org/x/mod"], // nothing to escape
  ];
  for (const [path, escaped] of rows) assertEquals(escapeModulePath(path), escaped);
  assertEquals(escapeModuleVersion("v1.0.0-RC1"), "v1.0.0-!r!c1");
  assertThrows(() => escapeModulePath("Example.com/x"), TypeError);
  // A tab cannot go through the oracle's tab-separated requests.
  assertEquals(
    checkModulePath("example.com/x\ty"),
    `malformed module path "example.com/x\\ty": invalid char '\\t'`,
  );
});

Deno.test("splitPathMajor() and nextMajorPath() find the next major's module path", () => {
  const rows: Array<[string, string | undefined]> = [
    // [module path, next major path]
    ["github.com/mjl-/mox", "github.com/mjl-/mox/v2"], // v0/v1 path
    ["github.com/foo/bar/v2", "github.com/foo/bar/v3"], // /vN suffix
    ["github.com/foo/bar/v19", "github.com/foo/bar/v20"], // two digits
    ["gopkg.in/yaml.v3", "gopkg.in/yaml.v4"], // gopkg.in style
    ["gopkg.in/yaml.v0", "gopkg.in/yaml.v1"], // gopkg.in v0 is a real major
    ["gopkg.in/check.v1-unstable", undefined], // unstable lines have no successor
    ["github.com/foo/bar/v1", undefined], // invalid path
  ];
  for (const [path, next] of rows) assertEquals(nextMajorPath(path), next, path);
  assertEquals(nextMajorPath("github.com/docker/docker", 29), "github.com/docker/docker/v29");
  assertEquals(splitPathMajor("github.com/foo/bar/v2"), {
    prefix: "github.com/foo/bar",
    pathMajor: "/v2",
  });
  assertEquals(splitPathMajor("github.com/foo/bar"), {
    prefix: "github.com/foo/bar",
    pathMajor: "",
  });
  assertEquals(splitPathMajor("github.com/foo/bar/v2.0"), undefined);
});
