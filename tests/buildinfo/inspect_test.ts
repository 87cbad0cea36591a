/**
 * The commands that read service binaries, on binaries ysco cannot update and on
 * hostile files: `inspect` shows what there is and why ysco cannot update it; `run`,
 * `check` and `plan` refuse with that reason, on one line.
 *
 * @module
 */

import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { goBuild, run, TESTSVC } from "../../world/go.ts";
import { writeYsDir } from "../../world/service.ts";
import { tempDir, ysco } from "../../world/util.ts";
import { buildOutsideModule, buildWithExperiment } from "./_builds.ts";
import { goVersionOf } from "./_go_version.ts";
import { goElf, inlineBlob, manyLoads, modInfoText } from "../../world/synthetic_binaries.ts";

const CANNOT = "built outside module mode, so ysco cannot tell its module and version";

Deno.test("ysco inspect shows a binary without a main module and why ysco cannot update it", async () => {
  const file = await buildOutsideModule();
  const go = await goVersionOf(file);
  const text = await ysco(["inspect", file]);
  assertEquals(text.code, 0, text.stderr);
  assertEquals(text.stderr, "");
  const lines = text.stdout.trimEnd().split("\n");
  assertEquals(lines[0], `${file}: ${go.goVersion}`);
  assertEquals(lines[1], `\tpackage\t${go.path}`);
  assertEquals(lines[2], "\tplatform\tlinux/amd64 (ELF)");
  for (const [key, value] of Object.entries(go.settings)) {
    assert(lines.includes(`\tbuild\t${key}=${value}`), `${key}=${value} in ${text.stdout}`);
  }
  const problem = `${go.goVersion} binary without a main module (package "${go.path}"): ${CANNOT}`;
  assertEquals(lines.at(-1), `\tysco\tcannot update: ${problem}`);

  const json = await ysco(["inspect", "-json", file]);
  assertEquals(json.code, 0, json.stderr);
  const [info] = JSON.parse(json.stdout);
  assertEquals(
    [info.goVersion, info.package, info.module.path, info.updatable, info.problem],
    [go.goVersion, go.path, "", false, problem],
  );
  assertEquals(info.settings.GOOS, "linux");
});

Deno.test("ysco inspect reads a GOEXPERIMENT build's Go version as its release", async () => {
  const file = await buildWithExperiment("v1.0.0", "nocoverageredesign");
  const go = await goVersionOf(file);
  assertMatch(go.goVersion, /^go1\.23\.\d+ X:nocoverageredesign$/);
  const release = go.goVersion.split(" ")[0];
  const text = await ysco(["inspect", file]);
  assertEquals(text.code, 0, text.stderr);
  const lines = text.stdout.trimEnd().split("\n");
  assertEquals(lines[0], `${file}: ${go.goVersion}`);
  assertEquals(lines[2], `\tmodule\t${TESTSVC} v1.0.0 ${go.mod[2]}`);
  assertEquals(
    lines.at(-1),
    `\tysco\tGo version read as ${release}, the release it is based on, for toolchain decisions and fetches`,
  );
  const [info] = JSON.parse((await ysco(["inspect", "-json", file])).stdout);
  assertEquals([info.goVersion, info.goRelease, info.updatable], [go.goVersion, release, true]);
});

Deno.test("ysco inspect refuses hostile files with one line each", async () => {
  await using dir = await tempDir();
  const good = await goBuild({ version: "v1.0.0" });
  const files: Array<[string, Uint8Array | "fifo" | "dangling", string]> = [
    ["many-loads", manyLoads(65_000), "not a Go executable (no build info)"],
    [
      "huge-version",
      goElf(inlineBlob(new Uint8Array(16 << 20).fill(0x41), modInfoText())),
      "not a Go executable (Go version of 16777216 bytes, more than 1024)",
    ],
    [
      "bad-build-line",
      goElf(inlineBlob("go1.23.5", modInfoText(["build\tGOARCH=amd64 build\tGOOS=linux"]))),
      'Cannot parse Go build info: line 4: unquoted value "amd64 build\\tGOOS=linux" must be quoted',
    ],
    [
      "control-characters",
      goElf(inlineBlob("go1.23.5\x1b[2J" + "\n".repeat(570), modInfoText())),
      `not a Go executable (Go version "go1.23.5\\x1b[2J${
        "\\n".repeat(68)
      }"... has control characters)`,
    ],
    ["fifo", "fifo", "not a regular file (a FIFO)"],
    ["dangling", "dangling", 'cannot open: it is a symlink to "gone", which does not exist'],
  ];
  for (const [name, content] of files) {
    const path = `${dir.path}/${name}`;
    if (content === "fifo") await run("mkfifo", [path]);
    else if (content === "dangling") await Deno.symlink("gone", path);
    else await Deno.writeFile(path, content, { mode: 0o755 });
  }
  const out = await ysco(["inspect", good, ...files.map(([name]) => `${dir.path}/${name}`)]);
  assertEquals(out.code, 1);
  assertEquals(
    out.stderr.trimEnd().split("\n"),
    files.map(([name, , reason]) => `ysco inspect: ${dir.path}/${name}: ${reason}`),
  );
  assertMatch(out.stdout, new RegExp(`^${good}: go1\\.23\\.\\d+\\n`));
});

Deno.test("ysco run, check and plan refuse a binary ysco cannot update with the reason, on one line", async () => {
  await using dir = await tempDir();
  await writeYsDir(dir.path);
  await Deno.copyFile(await buildOutsideModule(), `${dir.path}/gofmt`);
  await Deno.symlink("ysco.app-v1.0.0-go1.23.5", `${dir.path}/app`);
  const go = await goVersionOf(`${dir.path}/gofmt`);
  const reason =
    `./gofmt: ${go.goVersion} binary without a main module (package "${go.path}"): ${CANNOT}`;
  const rows: Array<[string[], string]> = [
    [
      ["run", "./gofmt"],
      `ysco run: command must be a Go binary with module information: ${reason}`,
    ],
    [
      ["run", "./app"],
      'ysco run: command must be a Go binary with module information: ./app: cannot open: it is a symlink to "ysco.app-v1.0.0-go1.23.5", which does not exist',
    ],
    [["check", "./gofmt"], `ysco check: ${reason}`],
    [["plan", "./gofmt"], `ysco plan: ${reason}`],
  ];
  for (const [args, want] of rows) {
    const out = await ysco(args, { cwd: dir.path });
    assertEquals([out.code, out.stderr], [1, want + "\n"], args.join(" "));
  }
});
