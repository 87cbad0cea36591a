import { assert, assertEquals } from "../_assert.ts";
import { ConfigError, parseConfig } from "../../src/config/parse.ts";

const BASE = 'auth_file = "password.txt"\n';

Deno.test("config validation checks update.schedule entries with the schedule parser", () => {
  type Row = [string[], string[]];
  const rows: Row[] = [
    // Valid entries, the issue's examples.
    [["mo-fr 9-17", "sa-mo,we 9-12", "18-21", "tu-th,sa", "mo-fr 09:30-17:00"], []],
    // An unknown day, named with the item.
    [["mo-fr 9-17", "xx 9-17"], ['update.schedule: item 2 "xx 9-17": unknown day "xx"']],
    // Every bad entry is reported.
    [["mo 22-6", "9"], [
      'update.schedule: item 1 "mo 22-6": start 22 is not before end 6 in "22-6" (a window cannot cross midnight: split it, like "mo 22-24" and "tu 0-6")',
      'update.schedule: item 2 "9": bad time range "9" (expected a range like "9-17" or "09:30-17:00")',
    ]],
  ];
  for (const [entries, want] of rows) {
    const text = `${BASE}[update]\nschedule = ${JSON.stringify(entries)}\n`;
    if (want.length === 0) {
      assertEquals(parseConfig(text).update.schedule, entries);
      continue;
    }
    const err = configError(() => parseConfig(text, "ysco.toml"));
    assertEquals(err.issues.map((i) => `${i.path}: ${i.message}`), want);
    assertEquals(err.message.split("\n").map((l) => l.replace(/^ysco\.toml:\d+: /, "")), want);
  }
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert(err instanceof ConfigError, String(err));
    return err;
  }
  throw new Error("expected a ConfigError");
}
