import { assert, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import {
  type BuildInfo,
  BuildInfoError,
  BytesReaderAt,
  readBuildInfo,
  readBuildInfoFrom,
  type ReaderAt,
} from "../../src/buildinfo/mod.ts";
import {
  CROSS_TARGETS,
  GO_TOOLCHAINS,
  goBuild,
  type GoBuildOptions,
  run,
  TESTSVC,
  TESTSVC_V2,
  TESTSVC_V2_VERSIONS,
  TESTSVC_VERSIONS,
} from "../_go.ts";
import { tempDir } from "../_util.ts";

/** What `go version -m` (Go 1.23) prints about a file. */
interface GoVersionM {
  goVersion: string;
  path: string;
  mod: string[];
  settings: Record<string, string>;
}

async function goVersionM(file: string): Promise<GoVersionM> {
  const out = await run(GO_TOOLCHAINS["1.23"], ["version", "-m", file]);
  const [first, ...lines] = out.trimEnd().split("\n");
  const result: GoVersionM = {
    goVersion: first?.split(": ")[1] ?? "",
    path: "",
    mod: [],
    settings: {},
  };
  for (const line of lines) {
    const [, kind, ...rest] = line.split("\t");
    if (kind === "path") result.path = rest.join("\t");
    if (kind === "mod") result.mod = rest;
    if (kind === "build") {
      const kv = rest.join("\t");
      const eq = kv.indexOf("=");
      result.settings[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  return result;
}

function assertAgrees(file: string, ours: BuildInfo, go: GoVersionM): void {
  assertEquals(ours.goVersion, go.goVersion, `${file}: Go version`);
  assertEquals(ours.path, go.path, `${file}: package path`);
  assertEquals([ours.main.path, ours.main.version, ours.main.sum], go.mod, `${file}: module`);
  for (const key of ["GOOS", "GOARCH", "CGO_ENABLED", "-trimpath"]) {
    assertEquals(
      ours.settings.find((s) => s.key === key)?.value,
      go.settings[key],
      `${file}: setting ${key}`,
    );
  }
}

const FIXTURES: Array<GoBuildOptions & { goos: string; goarch: string; format: string }> = [
  ...TESTSVC_VERSIONS.map((version) => ({
    version,
    goos: "linux",
    goarch: "amd64",
    format: "ELF",
  })),
  ...TESTSVC_V2_VERSIONS.map((version) => ({
    module: TESTSVC_V2,
    version,
    goos: "linux",
    goarch: "amd64",
    format: "ELF",
  })),
  { version: "v1.0.0", go: "1.19", goos: "linux", goarch: "amd64", format: "ELF" },
  // Go 1.15 wrote the older pointer format.
  { version: "v1.0.0", go: "1.15", goos: "linux", goarch: "amd64", format: "ELF" },
  ...CROSS_TARGETS.map(([goos, goarch]) => ({
    version: "v1.0.0",
    pkg: "cmd/hello",
    goos,
    goarch,
    format: goos === "darwin" ? "Mach-O" : goos === "windows" ? "PE" : "ELF",
  })),
];

Deno.test("readBuildInfo() agrees with go version -m on real Go binaries", async (t) => {
  for (const fixture of FIXTURES) {
    const name =
      `${fixture.module ?? TESTSVC}@${fixture.version} ${fixture.pkg ?? "cmd/testsvc"} ` +
      `go${fixture.go ?? "1.23"} ${fixture.goos}/${fixture.goarch}`;
    await t.step(name, async () => {
      const file = await goBuild(fixture);
      const ours = await readBuildInfo(file);
      assertAgrees(file, ours, await goVersionM(file));
      assertEquals(ours.main.path, fixture.module ?? TESTSVC);
      assertEquals(ours.main.version, fixture.version);
      assertEquals(ours.format, fixture.format);
      // Go 1.15 binaries have no GOOS/GOARCH settings: the file header must tell.
      assertEquals([ours.goos, ours.goarch], [fixture.goos, fixture.goarch]);
    });
  }
});

Deno.test("readBuildInfo() reads the first architecture of a fat Mach-O file", async () => {
  const thin = await Deno.readFile(
    await goBuild({ version: "v1.0.0", pkg: "cmd/hello", goos: "darwin", goarch: "arm64" }),
  );
  const offset = 0x4000;
  const fat = new Uint8Array(offset + thin.length);
  const v = new DataView(fat.buffer);
  v.setUint32(0, 0xcafebabe);
  v.setUint32(4, 1); // one architecture
  v.setUint32(8, 0x0100000c); // arm64
  v.setUint32(16, offset);
  v.setUint32(20, thin.length);
  v.setUint32(24, 14); // 2^14 alignment
  fat.set(thin, offset);
  const info = await readBuildInfoFrom(new BytesReaderAt(fat), "fat");
  assertEquals([info.main.path, info.main.version, info.goos, info.goarch], [
    TESTSVC,
    "v1.0.0",
    "darwin",
    "arm64",
  ]);
});

Deno.test("readBuildInfo() explains Debian's Go binaries, which have no main module", async () => {
  for (
    const file of [
      GO_TOOLCHAINS["1.23"],
      GO_TOOLCHAINS["1.19"],
      "/usr/lib/go-1.23/pkg/tool/linux_amd64/vet",
    ]
  ) {
    const go = await goVersionM(file);
    const err = await assertRejectsBuildInfo(readBuildInfo(file));
    assertEquals(err.file, file);
    assertEquals(
      err.reason,
      `${go.goVersion} binary without a main module (package ${go.path}): built outside module mode, so its version is unknown`,
    );
  }
});

Deno.test("readBuildInfo() reads only the parts it needs", async () => {
  const bytes = await Deno.readFile(await goBuild({ version: "v1.0.0" }));
  let read = 0;
  let calls = 0;
  const inner = new BytesReaderAt(bytes);
  const counting: ReaderAt = {
    size: inner.size,
    read(offset, length) {
      read += length;
      calls++;
      return inner.read(offset, length);
    },
  };
  await readBuildInfoFrom(counting, "testsvc");
  assert(read < 32 * 1024, `read ${read} of ${bytes.length} bytes`);
  assert(calls < 20, `${calls} reads`);
});

Deno.test("readBuildInfo() refuses what is not a Go binary with module information", async (t) => {
  await using dir = await tempDir();
  const real = await Deno.readFile(await goBuild({ version: "v1.0.0" }));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["empty", new Uint8Array(), /^not an executable \(file too short: 0 bytes\)$/],
    [
      "text",
      new TextEncoder().encode("#!/bin/sh\necho hello, world\n"),
      /^not an executable \(unrecognized file format\)$/,
    ],
    [
      "java class",
      Uint8Array.from([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x41, ...new Uint8Array(64)]),
      /fat Mach-O: bad architecture count 65/,
    ],
    ["elf header only", real.slice(0, 64), /truncated/],
    ["half a binary", real.slice(0, real.length >> 1), /truncated|no build info/],
    ["bad ELF class", patch(real, 4, [9]), /ELF: unknown class 9/],
    [
      "absurd section count",
      patch(patch(real, 0x3c, [0xff, 0xff]), 0x28, le64(real.length - 64)),
      /^truncated: 4194240 bytes at offset/,
    ],
    [
      "section headers far away",
      patch(real, 0x28, [0, 0, 0, 0, 0, 0, 0, 0x7f]),
      /out of range|truncated/,
    ],
    [
      "huge version length",
      patchMagic(real, 32, [0xff, 0xff, 0xff, 0xff, 0x0f]),
      /absurd string length/,
    ],
    ["no magic", patchMagic(real, 0, [0]), /not a Go executable \(no build info\)/],
  ];
  for (const [name, bytes, want] of cases) {
    await t.step(name, async () => {
      const file = `${dir.path}/${name.replaceAll(" ", "_")}`;
      await Deno.writeFile(file, bytes);
      const err = await assertRejectsBuildInfo(readBuildInfo(file));
      assertMatch(err.reason, want);
      assertMatch(err.message, new RegExp(`^${file}: `));
    });
  }
  await t.step("directory", async () => {
    const err = await assertRejectsBuildInfo(readBuildInfo(dir.path));
    assertEquals(err.reason, "not a regular file");
  });
  await t.step("missing file", async () => {
    const err = await assertRejectsBuildInfo(readBuildInfo(`${dir.path}/missing`));
    assertMatch(err.reason, /^cannot open: No such file or directory/);
  });
});

Deno.test("readBuildInfo() ends every corruption of real binaries in its own error", async () => {
  let seed = 1;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const outcomes = { read: 0, refused: 0 };
  for (
    const fixture of [
      { version: "v1.0.0" },
      { version: "v1.0.0", go: "1.15" as const },
      {
        version: "v1.0.0",
        pkg: "cmd/hello",
        goos: "darwin",
        goarch: "arm64",
      },
      { version: "v1.0.0", pkg: "cmd/hello", goos: "windows", goarch: "386" },
      {
        version: "v1.0.0",
        pkg: "cmd/hello",
        goos: "linux",
        goarch: "mips",
      },
    ]
  ) {
    const real = await Deno.readFile(await goBuild(fixture));
    const magic = findMagic(real);
    for (let i = 0; i < 150; i++) {
      const bytes = real.slice(0, i % 10 === 0 ? rnd(real.length) : real.length);
      const flips = 1 + rnd(8);
      for (let f = 0; f < flips; f++) {
        // Aim at the headers, the section table at the end, and the build info blob.
        const region = rnd(3);
        const at = region === 0
          ? rnd(512)
          : region === 1
          ? bytes.length - 1 - rnd(4096)
          : magic + rnd(600);
        if (at >= 0 && at < bytes.length) bytes[at] = rnd(256);
      }
      try {
        await readBuildInfoFrom(new BytesReaderAt(bytes), "corrupt");
        outcomes.read++;
      } catch (err) {
        assert(err instanceof BuildInfoError, `not a BuildInfoError: ${err}`);
        assert(!err.reason.includes("internal error"), `parser bug: ${err.reason}`);
        outcomes.refused++;
      }
    }
  }
  // Both outcomes happen: flips in unused bytes are harmless, others are caught.
  assert(outcomes.read > 0 && outcomes.refused > 0, JSON.stringify(outcomes));
});

async function assertRejectsBuildInfo(p: Promise<unknown>): Promise<BuildInfoError> {
  let caught: unknown;
  await assertRejects(p.catch((err) => {
    caught = err;
    throw err;
  }));
  assert(caught instanceof BuildInfoError, `expected BuildInfoError, got ${caught}`);
  return caught;
}

function patch(bytes: Uint8Array, at: number, values: number[]): Uint8Array {
  const copy = bytes.slice();
  copy.set(values, at);
  return copy;
}

function le64(n: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return [...b];
}

function patchMagic(bytes: Uint8Array, delta: number, values: number[]): Uint8Array {
  return patch(bytes, findMagic(bytes) + delta, values);
}

function findMagic(bytes: Uint8Array): number {
  const magic = new TextEncoder().encode(" Go buildinf:");
  for (let i = 0; i < bytes.length - 16; i += 16) {
    if (bytes[i] === 0xff && magic.every((b, j) => bytes[i + 1 + j] === b)) return i;
  }
  throw new Error("no magic");
}
