import { assertEquals, assertThrows } from "../_assert.ts";
import { formatFlags, HelpRequested, parseFlags } from "../../src/cli/flags.ts";
import { UsageError } from "../../src/errors.ts";

const SPEC = {
  dir: { type: "string", help: "state directory", value: "DIR", default: "ys" },
  addr: { type: "string", help: "listen address", value: "ADDR" },
  json: { type: "boolean", help: "print JSON" },
} as const;

Deno.test("parseFlags() accepts Go-style and GNU-style flags", () => {
  const rows: Array<[string[], { dir: string; addr: string; json: boolean }, string[]]> = [
    // [args, flags, rest]
    [[], { dir: "ys", addr: "", json: false }, []], // defaults
    [["-dir", "x", "-json"], { dir: "x", addr: "", json: true }, []], // Go style
    [["--dir=x", "--json=false"], { dir: "x", addr: "", json: false }, []], // GNU style with =
    [["-addr=:80", "--dir", "y"], { dir: "y", addr: ":80", json: false }, []], // mixed
    [["-json", "./app", "-dir", "z"], { dir: "ys", addr: "", json: true }, ["./app", "-dir", "z"]], // stops at CMD
    [["--", "-dir"], { dir: "ys", addr: "", json: false }, ["-dir"]], // -- ends flags
    [["-", "x"], { dir: "ys", addr: "", json: false }, ["-", "x"]], // a lone dash is an operand
  ];
  for (const [args, flags, rest] of rows) {
    const got = parseFlags(args, SPEC);
    assertEquals({ ...got.flags }, flags, args.join(" "));
    assertEquals(got.rest, rest, args.join(" "));
  }
});

Deno.test("parseFlags() can take flags after operands", () => {
  const got = parseFlags(["a", "-json", "b"], SPEC, { stopAtOperand: false });
  assertEquals(got.flags.json, true);
  assertEquals(got.rest, ["a", "b"]);
  assertEquals([...got.given], ["json"]);
});

Deno.test("parseFlags() rejects bad command lines with a usage error", () => {
  const rows: Array<[string[], string]> = [
    // [args, message]
    [["-nope"], 'unknown flag "-nope"'],
    [["--dir"], 'flag "-dir" needs a value'],
    [["-json=maybe"], 'flag "-json" takes true or false, not "maybe"'],
    [["---dir=x"], 'unknown flag "---dir=x"'],
  ];
  for (const [args, message] of rows) {
    assertThrows(
      () => parseFlags(args, SPEC),
      (err: unknown) => err instanceof UsageError && err.message === message,
    );
  }
  for (const help of ["-h", "--help", "-help"]) {
    assertThrows(() => parseFlags([help], SPEC), HelpRequested);
  }
});

Deno.test("formatFlags() lists flags with placeholders and defaults", () => {
  assertEquals(
    formatFlags(SPEC),
    [
      '  -dir DIR    state directory (default "ys")',
      "  -addr ADDR  listen address",
      "  -json       print JSON",
    ].join("\n"),
  );
});
