/**
 * Hostile input for the build info reader, generated here (no checked-in blobs):
 * crafted executables, huge strings, control characters, bad build lines, files
 * that are not regular files. Go's `go version -m` is the oracle where it is right;
 * where it is not (it reads a 16 MiB version string, it blocks on a FIFO), ysco
 * refuses, with bounded reads and one-line errors.
 *
 * @module
 */

import { assert, assertEquals, assertMatch } from "../_assert.ts";
import {
  type BuildInfo,
  BuildInfoError,
  BytesReaderAt,
  readGoBinary,
  readGoBinaryFrom,
  updateProblem,
} from "../../src/buildinfo/mod.ts";
import { goQuote } from "../../src/discover/module_path.ts";
import { run } from "../../world/go.ts";
import { tempDir } from "../../world/util.ts";
import { goElf, inlineBlob, manyLoads, modInfoText } from "../../world/synthetic_binaries.ts";
import { goVersionM } from "./_go_version.ts";
import { countingReader, rejectsBuildInfo } from "./_reads.ts";

Deno.test("a file of 65,000 PT_LOAD headers mapping the same bytes is refused as Go refuses it", async () => {
  await using dir = await tempDir();
  const bytes = manyLoads(65_000);
  const file = `${dir.path}/many-loads`;
  await Deno.writeFile(file, bytes, { mode: 0o755 });
  // The blob lies in the last segment; Go searches only the one holding the region's start.
  const go = (await goVersionM([file])).get(file);
  assertEquals(go, { error: "not a Go executable" });
  const err = await rejectsBuildInfo(readGoBinary(file));
  assertEquals(err.reason, "not a Go executable (no build info)");
  // Beyond the program headers, one chunk of the first segment is read.
  const counted = countingReader(bytes);
  await rejectsBuildInfo(readGoBinaryFrom(counted.reader, file));
  assert(counted.bytes() <= 64 + 65_000 * 56 + 64 * 1024, `read ${counted.bytes()} bytes`);
});

Deno.test("a huge Go version or module information is refused before it is read", async () => {
  await using dir = await tempDir();
  const rows: Array<[string, Uint8Array, string, RegExp]> = [
    // [name, Go version, module information, reason]
    [
      "16 MiB version",
      new Uint8Array(16 << 20).fill(0x41),
      modInfoText(),
      /^not a Go executable \(Go version of 16777216 bytes, more than 1024\)$/,
    ],
    [
      "5 MiB module information",
      new TextEncoder().encode("go1.23.5"),
      modInfoText(["dep\texample.com/big\tv1.0.0\th1:" + "x".repeat(5 << 20)]),
      /^not a Go executable \(module information of \d+ bytes, more than 4194304\)$/,
    ],
  ];
  for (const [name, version, mod, want] of rows) {
    const bytes = goElf(inlineBlob(version, mod));
    const counted = countingReader(bytes);
    const err = await rejectsBuildInfo(readGoBinaryFrom(counted.reader, name));
    assertMatch(err.reason, want);
    assert(counted.bytes() < 64 * 1024, `${name}: read ${counted.bytes()} bytes`);
    // The same from a file, where `go version -m` reads it all (and so is no oracle).
    const file = `${dir.path}/${name.replaceAll(" ", "_")}`;
    await Deno.writeFile(file, bytes);
    assertMatch((await rejectsBuildInfo(readGoBinary(file))).reason, want);
  }
  // At the limit, it is read, as Go reads it.
  const file = `${dir.path}/long-version`;
  const longest = "go1.23.5 X:" + "a".repeat(1024 - 11);
  await Deno.writeFile(file, goElf(inlineBlob(longest, modInfoText())), { mode: 0o755 });
  const go = (await goVersionM([file])).get(file);
  assert(go !== undefined && "goVersion" in go, JSON.stringify(go));
  assertEquals((await readGoBinary(file)).goVersion, go.goVersion);
});

Deno.test("errors quote and cut the file's bytes to one line", async () => {
  const nasty = "\x1b[2J\x1b[31m" + "line\n".repeat(570) + "\x07";
  const rows: Array<[string, Uint8Array, RegExp]> = [
    // [name, file, reason]
    [
      "control characters in the Go version",
      goElf(inlineBlob("go1.23.5" + nasty.slice(0, 900), modInfoText())),
      /^not a Go executable \(Go version "go1\.23\.5\\x1b\[2J\\x1b\[31mline\\nline\\n.*"\.\.\. has control characters\)$/,
    ],
    [
      "control characters in a build value",
      goElf(inlineBlob("go1.23.5", modInfoText(["build\tK=\x1b[31m" + "v".repeat(5000) + " x"]))),
      /^Cannot parse Go build info: line 4: unquoted value "\\x1b\[31mv+"\.\.\. must be quoted$/,
    ],
    [
      "control characters in a quoted key",
      goElf(inlineBlob("go1.23.5", modInfoText(["build\tK\x1b\r =v"]))),
      /^Cannot parse Go build info: line 4: unquoted key "K\\x1b\\r " must be quoted$/,
    ],
  ];
  for (const [name, bytes, want] of rows) {
    const err = await rejectsBuildInfo(readGoBinaryFrom(new BytesReaderAt(bytes), name));
    assertMatch(err.reason, want, name);
    assertOneLine(err.message);
  }
  // A binary without a main module whose package path is hostile: shown, and the
  // reason ysco cannot update it quoted and cut.
  const bytes = goElf(inlineBlob("go1.23.5", `path\t${nasty.replaceAll("\n", "\r")}\n`));
  const info = await readGoBinaryFrom(new BytesReaderAt(bytes), "nasty path");
  assertEquals(info.path, nasty.replaceAll("\n", "\r"));
  const problem = updateProblem(info) ?? "";
  assertMatch(problem, /^go1\.23\.5 binary without a main module \(package "\\x1b\[2J.*"\.\.\.\)/);
  assertOneLine(problem);
});

Deno.test("build lines are accepted and rejected exactly as Go's parser does", async () => {
  await using dir = await tempDir();
  const lines = [
    // The issue's case: a newline turned into a space.
    "build\tGOARCH=amd64 build\tGOOS=linux",
    "build\t",
    "build\t=x",
    "build\tk",
    "build\tk w=v",
    'build\tk"=v',
    'build\t"k"',
    'build\t"k"x',
    'build\t"k""=v',
    'build\t"k"\'=v',
    'build\t"k"\x01=v',
    'build\t"k',
    'build\t"k\\q"=v',
    'build\t"k w"=v',
    "build\t`k w`=v",
    "build\tk=",
    'build\tk="v w"',
    'build\tk="v w"x',
    'build\tk="unterminated',
    'build\tk="bad \\q escape"',
    "build\tk=`raw value`",
    'build\tk=a"b',
    "build\tk=a\rb",
    'build\tk="\\x41\\u00e9\\101"',
    "mod\tonly-path",
    "dep\ta\tb\tc\td",
    "=>\tx\tv1.0.0\th1:y=",
    "=>\tx\tv1.0.0",
    "unknown\tlines are ignored",
  ];
  const files = lines.map((_, i) => `${dir.path}/line${i}`);
  for (const [i, line] of lines.entries()) {
    await Deno.writeFile(files[i] ?? "", goElf(inlineBlob("go1.23.5", modInfoText([line]))), {
      mode: 0o755,
    });
  }
  const go = await goVersionM(files);
  let rejected = 0;
  for (const [i, line] of lines.entries()) {
    const file = files[i] ?? "";
    const want = go.get(file);
    const got: unknown = await readGoBinary(file).catch((err: unknown) => err);
    if (want !== undefined && "error" in want) {
      rejected++;
      assert(got instanceof BuildInfoError, `${goQuote(line)}: Go rejects it, ysco reads it`);
      const goReason = want.error.replace(/^could not parse Go build info: /, "");
      assertEquals(got.reason, `Cannot parse Go build info: ${goReason}`, goQuote(line));
    } else {
      assert(isBuildInfo(got), `${goQuote(line)}: Go reads it, ysco says ${got}`);
      assert(want !== undefined && !("error" in want));
      const printed = Object.fromEntries(got.settings.map((s) => [
        /[= \t\r\n"`]/.test(s.key) || s.key === "" ? goQuote(s.key) : s.key,
        /[ \t\r\n"`]/.test(s.value) ? goQuote(s.value) : s.value,
      ]));
      assertEquals(printed, want.settings, goQuote(line));
    }
  }
  // Both outcomes occur.
  assert(rejected > 5 && rejected < lines.length - 5, `${rejected} rejected`);
});

Deno.test("files that are not regular files are refused without being opened", async () => {
  await using dir = await tempDir();
  const fifo = `${dir.path}/fifo`;
  await run("mkfifo", [fifo]);
  await Deno.symlink(fifo, `${dir.path}/link-to-fifo`);
  const rows: Array<[string, string]> = [
    [fifo, "not a regular file (a FIFO)"],
    [`${dir.path}/link-to-fifo`, "not a regular file (a FIFO)"],
    ["/dev/zero", "not a regular file (a character device)"],
    [dir.path, "not a regular file (a directory)"],
  ];
  for (const [file, want] of rows) {
    assertEquals((await rejectsBuildInfo(readGoBinary(file))).reason, want, file);
  }
});

Deno.test("a dangling symlink's error names the missing target", async () => {
  await using dir = await tempDir();
  await Deno.symlink("ysco.app-v1.2.3-go1.23.5", `${dir.path}/app`);
  await Deno.symlink("app", `${dir.path}/chain`);
  const rows: Array<[string, string]> = [
    [
      `${dir.path}/app`,
      'cannot open: it is a symlink to "ysco.app-v1.2.3-go1.23.5", which does not exist',
    ],
    [
      `${dir.path}/chain`,
      `cannot open: it is a symlink to "app", which leads to "${dir.path}/ysco.app-v1.2.3-go1.23.5", which does not exist`,
    ],
  ];
  for (const [file, want] of rows) {
    assertEquals((await rejectsBuildInfo(readGoBinary(file))).reason, want, file);
  }
});

function isBuildInfo(x: unknown): x is BuildInfo {
  return typeof x === "object" && x !== null && "settings" in x;
}

function assertOneLine(message: string): void {
  assert(!/[^ -~\u0080-\uffff]/.test(message), `control characters in ${JSON.stringify(message)}`);
  assert(message.length < 400, `${message.length} characters: ${message}`);
}
