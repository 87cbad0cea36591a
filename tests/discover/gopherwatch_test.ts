import { assertEquals, assertThrows } from "../_assert.ts";
import {
  encodeGopherwatchLabel,
  gopherwatchModuleName,
  gopherwatchToolchainName,
  joinTxtRecords,
  parseModuleRecord,
  parseToolchainRecord,
} from "../../src/discover/gopherwatch.ts";

const ZONE = "l.gopherwatch.org";

Deno.test("gopherwatchModuleName() encodes the examples of docs/protocols.md section 1.1", () => {
  const rows: Array<[string, string, string]> = [
    // [module path, zone, name]
    ["github.com/mjl-/moxtools", ZONE, "moxtools.mjl_2d._.github.com.v0.l.gopherwatch.org."],
    ["github.com/mjl-/mox/v2", ZONE, "v2.mox.mjl_2d._.github.com.v0.l.gopherwatch.org."],
    ["golang.org/x/mod", ZONE, "mod.x._.golang.org.v0.l.gopherwatch.org."],
    ["github.com/BurntSushi/toml", ZONE, "toml._42urnt_53ushi._.github.com.v0.l.gopherwatch.org."],
    ["example.com/a_b.c", ZONE, "a_5fb_2ec._.example.com.v0.l.gopherwatch.org."],
    ["github.com/mjl-/mox", ZONE, "mox.mjl_2d._.github.com.v0.l.gopherwatch.org."],
    ["github.com/mjl-/Test", ZONE, "_54est.mjl_2d._.github.com.v0.l.gopherwatch.org."],
    [
      "github.com/Azure/go-autorest/autorest",
      ZONE,
      "autorest.go-autorest._41zure._.github.com.v0.l.gopherwatch.org.",
    ],
    ["gopkg.in/yaml.v3", ZONE, "yaml_2ev3._.gopkg.in.v0.l.gopherwatch.org."],
    ["github.com/foo/bar/v2", ZONE, "v2.bar.foo._.github.com.v0.l.gopherwatch.org."],
    ["example.com/a_b/c~d", ZONE, "c_7ed.a_5fb._.example.com.v0.l.gopherwatch.org."],
    ["example.com/-lead/trail-", ZONE, "trail_2d._2dlead._.example.com.v0.l.gopherwatch.org."],
    [
      "xn--74h.example/test",
      "l.beta.gopherwatch.org",
      "test._.xn--74h.example.v0.l.beta.gopherwatch.org.",
    ],
    ["golang.org/x/mod", "l.gopherwatch.org.", "mod.x._.golang.org.v0.l.gopherwatch.org."], // zone with final dot
    ["example.com/-", ZONE, "_2d._.example.com.v0.l.gopherwatch.org."], // a lone dash is leading and trailing
  ];
  for (const [path, zone, name] of rows) {
    assertEquals(gopherwatchModuleName(path, zone), name, path);
  }
});

Deno.test("gopherwatchModuleName() refuses paths it cannot encode, before any query", () => {
  const rows: Array<[string, RegExp]> = [
    // [module path, error]
    ["example.com", /without "\/" has no gopherwatch name/], // bare host
    ["Example.com/x", /malformed module path "Example.com\/x": invalid char 'E' in first/], // invalid
    ["github.com/foo/bar/v1", /invalid version/], // bad major suffix
    [`example.com/${"A".repeat(22)}`, /label "(_41){22}" is longer than 63 bytes/], // 66 bytes
    [
      `example.com/${"a".repeat(60)}/${"b".repeat(60)}/${"c".repeat(60)}/${"d".repeat(60)}`,
      /longer than 253/,
    ],
  ];
  for (const [path, error] of rows) {
    assertThrows(() => gopherwatchModuleName(path, ZONE), (err: unknown) => {
      return err instanceof TypeError && error.test(err.message);
    }, path);
  }
  // 21 uppercase letters are 63 bytes: the longest all-uppercase element.
  assertEquals(encodeGopherwatchLabel("A".repeat(21)).length, 63);
  gopherwatchModuleName(`example.com/${"A".repeat(21)}`, ZONE);
});

Deno.test("gopherwatchToolchainName() is toolchain.v0.<zone>.", () => {
  assertEquals(gopherwatchToolchainName(ZONE), "toolchain.v0.l.gopherwatch.org.");
  assertEquals(
    gopherwatchToolchainName("l.beta.gopherwatch.org."),
    "toolchain.v0.l.beta.gopherwatch.org.",
  );
});

Deno.test("parseModuleRecord() reads versions, tolerant where the original is brittle", () => {
  const t = (hex: string) => new Date(parseInt(hex, 16) * 1000);
  const rows: Array<[string, Array<[string, Date]>]> = [
    // [record text, versions and times]
    ["v=v0.0.11 t=66fa7e15", [["v0.0.11", new Date("2024-09-30T10:31:49Z")]]], // docs/protocols.md section 1.4
    ["v=v1.2.3 t=6708f0a1; v=v0.9.1 t=65aa0b12", [["v1.2.3", t("6708f0a1")], [
      "v0.9.1",
      t("65aa0b12"),
    ]]],
    ["v=v28.2.2+incompatible t=66fa7e15", [["v28.2.2+incompatible", t("66fa7e15")]]], // original fails here
    ["v=v1.2.3 t=66fa7e15;", [["v1.2.3", t("66fa7e15")]]], // trailing ";": the original fails
    ["v=v1.2.3  t=66fa7e15", [["v1.2.3", t("66fa7e15")]]], // double space: the original fails
    ["other=ignored;v=v1.2.3 t=66f8591d", [["v1.2.3", t("66f8591d")]]], // entry without v/t skipped
    ["v=v1.2.3 t=66f8591d x=new", [["v1.2.3", t("66f8591d")]]], // unknown keys ignored
    ["v=v1.0.0", []], // no t: skipped
    ["", []], // empty
  ];
  for (const [text, want] of rows) {
    assertEquals(parseModuleRecord(text).map((v) => [v.version, v.time]), want, text);
  }
});

Deno.test("parseModuleRecord() is strict on garbage", () => {
  const rows: Array<[string, RegExp]> = [
    // [record text, error]
    ["v=v1.2.3 t", /bad pair "t"/], // pair without "="
    ["v=v1.2.3 =x", /bad pair "=x"/], // empty key
    ["v= t=66fa7e15", /empty value for "v"/],
    ["v=v1 t=1 v=v2", /duplicate key "v"/],
    ["v=1.2.3 t=66fa7e15", /invalid version "1.2.3"/], // no "v" prefix
    ["v=v1.2.3 t=yesterday", /invalid time "yesterday"/],
    ["<html>hello</html>", /bad pair "<html>hello<\/html>"/],
  ];
  for (const [text, error] of rows) {
    assertThrows(
      () => parseModuleRecord(text),
      (err: unknown) => err instanceof SyntaxError && error.test(err.message),
      text,
    );
  }
});

Deno.test("parseToolchainRecord() takes the first entry of each kind", () => {
  const t = (hex: string) => new Date(parseInt(hex, 16) * 1000);
  const rows: Array<[string, [string, string, string]]> = [
    // [record text, [cur, prev, next]]
    ["v=go1.23.1 k=cur t=66fa7e15; v=go1.22.7 k=prev t=66fa7e15", ["go1.23.1", "go1.22.7", ""]],
    [
      "v=go1.23.2 k=cur t=670d2a3b; v=go1.22.8 k=prev t=670d2a3b; v=go1.24rc1 k=next t=670d2a3b",
      ["go1.23.2", "go1.22.8", "go1.24rc1"],
    ],
    ["v=go1.23.2 k=cur t=1; v=go1.23.1 k=cur t=2", ["go1.23.2", "", ""]], // first of a kind wins
    ["v=go1.23.2 k=cur t=1; v=go1.30.0 k=future t=2", ["go1.23.2", "", ""]], // unknown kind skipped
    ["v=go1.22.0 t=1; v=go1.23.2 k=cur t=1;", ["go1.23.2", "", ""]], // without k skipped
  ];
  for (const [text, [cur, prev, next]] of rows) {
    assertEquals(parseToolchainRecord(text).toolchains, { cur, prev, next }, text);
  }
  assertEquals(parseToolchainRecord("v=go1.23.2 k=cur t=670d2a3b").times, { cur: t("670d2a3b") });
  assertThrows(() => parseToolchainRecord("v=go1.23.2 t=1"), /no version in/);
  assertThrows(() => parseToolchainRecord("v=1.23.2 k=cur t=1"), /invalid Go version "1.23.2"/);
  // Toolchains are fetched by the name in the record: only canonical ones.
  assertThrows(
    () => parseToolchainRecord("v=go1.23.2-bigcorp k=cur t=1"),
    /invalid Go version "go1.23.2-bigcorp"/,
  );
});

Deno.test("joinTxtRecords() joins strings of a record, and records with ';'", () => {
  const rows: Array<[string[][], string]> = [
    // [records, text]
    [[["v=v1.2.3 t=66fa7e15"]], "v=v1.2.3 t=66fa7e15"], // one record, one string
    [[["v=v1.2.3 t=66", "fa7e15"]], "v=v1.2.3 t=66fa7e15"], // a value split over strings
    [[["v=v2.0.0 t=1"], ["v=v1.0.0 t=2"]], "v=v2.0.0 t=1;v=v1.0.0 t=2"], // several records
  ];
  for (const [records, text] of rows) assertEquals(joinTxtRecords(records), text);
  assertEquals(
    parseModuleRecord(joinTxtRecords([["v=v2.0.0 t=1;"], ["v=v1.0.0 t=2"]])).map((v) => v.version),
    ["v2.0.0", "v1.0.0"],
  );
});
