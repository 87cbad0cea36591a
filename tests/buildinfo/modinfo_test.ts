import { assertEquals, assertThrows } from "../_assert.ts";
import { parseModInfo, unquotePrefix } from "../../src/buildinfo/modinfo.ts";

Deno.test("parseModInfo() reads path, main module, deps, replacements and settings", () => {
  const text = [
    "path\texample.com/m/cmd/x",
    "mod\texample.com/m\tv1.2.3\th1:abc=",
    "dep\tgolang.org/x/mod\tv0.19.0\th1:def=",
    "dep\texample.com/old\tv1.0.0",
    "=>\texample.com/new\tv1.1.0\th1:ghi=",
    "dep\texample.com/local\tv0.0.0",
    "=>\t../local\t\t",
    "build\t-buildmode=exe",
    'build\t-ldflags="-X main.v=1 -s"',
    "build\tCGO_ENABLED=0",
    'build\t"quoted key"=value',
    "go\tignored unknown line",
    "build\tunterminated=last line is ignored",
  ].join("\n");
  assertEquals(parseModInfo(text), {
    path: "example.com/m/cmd/x",
    main: { path: "example.com/m", version: "v1.2.3", sum: "h1:abc=" },
    deps: [
      { path: "golang.org/x/mod", version: "v0.19.0", sum: "h1:def=" },
      {
        path: "example.com/old",
        version: "v1.0.0",
        sum: "",
        replace: { path: "example.com/new", version: "v1.1.0", sum: "h1:ghi=" },
      },
      {
        path: "example.com/local",
        version: "v0.0.0",
        sum: "",
        replace: { path: "../local", version: "", sum: "" },
      },
    ],
    settings: [
      { key: "-buildmode", value: "exe" },
      { key: "-ldflags", value: "-X main.v=1 -s" },
      { key: "CGO_ENABLED", value: "0" },
      { key: "quoted key", value: "value" },
    ],
  });
});

Deno.test("parseModInfo() names the line of malformed input", () => {
  const rows: Array<[string, string]> = [
    // [text, error]
    ["path\tp\nmod\ta\n", "line 2: expected 2 or 3 columns; got 1"],
    ["=>\ta\tb\tc\n", "line 1: replacement with no module on previous line"],
    ["mod\ta\tv1\n=>\ta\tb\n", "line 2: expected 3 columns for replacement; got 2"],
    ["build\tnoequals\n", "line 1: build line missing '=' after key"],
    ['build\tk="unterminated\n', "line 1: invalid quoted value in build line"],
    // A newline turned into a space: Go's parser rejects it, and so does ysco.
    [
      "build\tGOARCH=amd64 build\tGOOS=linux\n",
      'line 1: unquoted value "amd64 build\\tGOOS=linux" must be quoted',
    ],
  ];
  for (const [text, want] of rows) {
    assertThrows(() => parseModInfo(text), {
      name: "SyntaxError",
      message: `Cannot parse Go build info: ${want}`,
    });
  }
});

Deno.test("unquotePrefix() decodes Go string literals", () => {
  const rows: Array<[string, string | undefined, number]> = [
    // [input, value, consumed length]
    ['"plain" rest', "plain", 7],
    ['"tab\\tnl\\n\\"q\\" \\\\"', 'tab\tnl\n"q" \\', 19],
    ['"\\x41\\101\\u00e9\\U0001F600"', "AA\u00e9\u{1F600}", 26],
    ["`raw \\n`", "raw \\n", 8],
    ['"bad \\q"', undefined, 0],
    ['"no end', undefined, 0],
    ['"\\uD800"', undefined, 0], // surrogate halves are invalid
  ];
  for (const [input, value, length] of rows) {
    const got = unquotePrefix(input);
    assertEquals(got, value === undefined ? undefined : { value, length }, input);
  }
});
