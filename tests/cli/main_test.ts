import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { goBuild, TESTSVC } from "../../world/go.ts";
import { tempDir, YSCO, ysco } from "../../world/util.ts";

Deno.test("ysco version prints versions and the platform", async () => {
  const out = await ysco(["version"]);
  assertEquals(out.code, 0);
  assertMatch(out.stdout, /^ysco v\d+\.\d+\.\d+\S* deno \d+\.\d+\.\d+ v8 \S+ linux\/amd64\n$/);
});

Deno.test("ysco inspect prints build information and agrees with its JSON form", async () => {
  const file = await goBuild({ version: "v1.0.1" });
  const text = await ysco(["inspect", file]);
  assertEquals(text.code, 0, text.stderr);
  assertMatch(
    text.stdout,
    new RegExp(`^${file}: go1\\.23\\.\\d+\\n\\tpackage\\t${TESTSVC}/cmd/testsvc\\n`),
  );
  assertMatch(
    text.stdout,
    new RegExp(
      `\\tmodule\\t${TESTSVC} v1\\.0\\.1 h1:\\S+\\n\\tplatform\\tlinux/amd64 \\(ELF\\)\\n`,
    ),
  );
  assertMatch(text.stdout, /\tbuild\tCGO_ENABLED=0\n/);

  const json = await ysco(["inspect", "--json", file]);
  assertEquals(json.code, 0);
  const [info] = JSON.parse(json.stdout);
  assertEquals(info.module.path, TESTSVC);
  assertEquals(info.module.version, "v1.0.1");
  assertEquals(info.package, `${TESTSVC}/cmd/testsvc`);
  assertEquals([info.goos, info.goarch], ["linux", "amd64"]);
  assertEquals(info.settings.GOOS, "linux");
});

Deno.test("ysco inspect exits 1 with one line per unreadable file", async () => {
  await using dir = await tempDir();
  const good = await goBuild({ version: "v1.0.0" });
  const text = `${dir.path}/notes.txt`;
  await Deno.writeTextFile(text, "hello, these are notes\n");
  const out = await ysco(["inspect", good, text, `${dir.path}/missing`]);
  assertEquals(out.code, 1);
  assertEquals(out.stderr.trimEnd().split("\n"), [
    `ysco inspect: ${text}: not an executable (unrecognized file format)`,
    `ysco inspect: ${dir.path}/missing: cannot open: No such file or directory (os error 2): open '${dir.path}/missing'`,
  ]);
  assertMatch(out.stdout, new RegExp(`^${good}: `));

  const json = await ysco(["inspect", "-json", text]);
  assertEquals(json.code, 1);
  assertEquals(JSON.parse(json.stdout), [{
    file: text,
    error: "not an executable (unrecognized file format)",
  }]);
});

Deno.test("ysco prints usage and exits 2 on bad command lines", async () => {
  const rows: Array<[string[], RegExp]> = [
    // [args, stderr]
    [[], /^usage: ysco COMMAND/],
    [["frobnicate"], /^ysco: unknown command "frobnicate"\n\nusage: ysco COMMAND/],
    [["inspect"], /^ysco inspect: missing BINARY\n\nusage: ysco inspect/],
    [["inspect", "--bogus", "x"], /^ysco inspect: unknown flag "--bogus"\n\nusage: ysco inspect/],
    [["version", "extra"], /^ysco version: unexpected argument "extra"\n\nusage: ysco version/],
  ];
  for (const [args, stderr] of rows) {
    const out = await ysco(args);
    assertEquals(out.code, 2, args.join(" "));
    assertMatch(out.stderr, stderr);
    assertEquals(out.stdout, "");
  }
});

Deno.test("ysco help and -h work for every command", async () => {
  const overview = await ysco(["help"]);
  assertEquals(overview.code, 0);
  const commands = [...overview.stdout.matchAll(/^ {2}(\S+) {2}/gm)].map((m) => m[1] ?? "");
  assert(commands.includes("inspect") && commands.includes("version"), overview.stdout);
  for (const name of commands.filter((c) => c !== "help")) {
    for (const args of [["help", name], [name, "-h"], [name, "--help"]]) {
      const out = await ysco(args);
      assertEquals(out.code, 0, args.join(" "));
      assertMatch(out.stdout, new RegExp(`^usage: ysco ${name}`), args.join(" "));
    }
  }
});

Deno.test("bin/ysco runs the program through symlinks to it, from any directory", async () => {
  await using dir = await tempDir();
  // As `ysco init` links it (absolute), and a relative link to that link.
  await Deno.symlink(YSCO, `${dir.path}/ysco`);
  await Deno.mkdir(`${dir.path}/sub`);
  await Deno.symlink("../ysco", `${dir.path}/sub/again`);
  const runs: Array<[string, string]> = [["./ysco", dir.path], ["./again", `${dir.path}/sub`]];
  for (const [cmd, cwd] of runs) {
    const out = await new Deno.Command(cmd, { args: ["version"], cwd, stdin: "null" }).output();
    const text = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, `${cmd}: ${new TextDecoder().decode(out.stderr)}`);
    assertMatch(text, /^ysco v\d+\.\d+\.\d+\S* deno /);
  }
});
