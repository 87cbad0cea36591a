import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { exists } from "../../src/exists.ts";
import {
  type BuildInfo,
  BuildInfoError,
  BytesReaderAt,
  readBuildInfo,
  readBuildInfoFrom,
  readGoBinary,
} from "../../src/buildinfo/mod.ts";
import {
  CROSS_TARGETS,
  GO_TOOLCHAINS,
  goBuild,
  type GoBuildOptions,
  TESTSVC,
  TESTSVC_V2,
  TESTSVC_V2_VERSIONS,
  TESTSVC_VERSIONS,
} from "../../world/go.ts";
import { tempDir } from "../../world/util.ts";
import { buildOutsideModule } from "./_builds.ts";
import { type GoVersionM, goVersionOf } from "./_go_version.ts";
import { countingReader, rejectsBuildInfo } from "./_reads.ts";

function assertAgrees(file: string, ours: BuildInfo, go: GoVersionM): void {
  assertEquals(ours.goVersion, go.goVersion, `${file}: Go version`);
  assertEquals(ours.path, go.path, `${file}: package path`);
  // Go prints no mod line without a main module.
  const mod = ours.main.path === "" ? [] : [ours.main.path, ours.main.version, ours.main.sum];
  assertEquals(mod, go.mod, `${file}: module`);
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
      assertAgrees(file, ours, await goVersionOf(file));
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

Deno.test("readGoBinary() shows binaries without a main module, readBuildInfo() says why ysco cannot update them", async (t) => {
  const files: Array<[string, string]> = [
    ["Debian's Go 1.23 go command", GO_TOOLCHAINS["1.23"]],
    ["Debian's Go 1.19 go command", GO_TOOLCHAINS["1.19"]],
    ["Debian's vet", "/usr/lib/go-1.23/pkg/tool/linux_amd64/vet"],
    ["go build of a file with Go 1.23", await buildOutsideModule()],
  ];
  // Debian's own Go packages are built the same way.
  for (const file of ["/usr/bin/etcd", "/usr/bin/prometheus"]) {
    if (await exists(file)) files.push([file, file]);
  }
  for (const [name, file] of files) {
    await t.step(name, async () => {
      const go = await goVersionOf(file);
      const ours = await readGoBinary(file);
      assertAgrees(file, ours, go);
      assertEquals(Object.keys(go.settings).length, ours.settings.length);
      assertEquals(ours.main.path, "");
      const err = await rejectsBuildInfo(readBuildInfo(file));
      assertEquals(err.file, file);
      assertEquals(
        err.reason,
        `${go.goVersion} binary without a main module (package "${go.path}"): built outside module mode, so ysco cannot tell its module and version`,
      );
    });
  }
  await t.step("GOPATH build with Go 1.15: no module information at all", async () => {
    const file = await buildOutsideModule({ go: "1.15" });
    const go = await goVersionOf(file);
    const ours = await readGoBinary(file);
    assertAgrees(file, ours, go);
    assertEquals([go.path, go.mod, ours.path, ours.settings], ["", [], "", []]);
    const err = await rejectsBuildInfo(readBuildInfo(file));
    assertEquals(
      err.reason,
      `${go.goVersion} binary without module information: built outside module mode, so ysco cannot tell its module and version`,
    );
  });
});

Deno.test("readGoBinary() tells the platform of pre-1.18 binaries only where the header does", async (t) => {
  // Go 1.15 wrote no GOOS/GOARCH settings; ELF's OS ABI byte is 0 for all of these.
  const rows: Array<[string, string, string]> = [
    // [goos, goarch, what the header tells]
    ["linux", "amd64", "linux"], // PT_GNU_STACK
    ["linux", "arm64", "linux"],
    ["android", "arm64", "android"], // interpreter /system/bin/linker64
    ["netbsd", "amd64", "netbsd"], // OS ABI 2
    ["dragonfly", "amd64", ""],
    ["illumos", "amd64", ""],
    ["solaris", "amd64", ""],
  ];
  for (const [goos, goarch, want] of rows) {
    await t.step(`${goos}/${goarch}`, async () => {
      const file = await buildOutsideModule({ go: "1.15", goos, goarch });
      const ours = await readGoBinary(file);
      assertEquals([ours.goos, ours.goarch, ours.settings], [want, goarch, []]);
    });
  }
  await t.step("a module build for an unknown platform is refused for updates", async () => {
    const file = await goBuild({ version: "v1.0.0", go: "1.15", goos: "illumos" });
    const ours = await readGoBinary(file);
    assertEquals([ours.main.path, ours.main.version, ours.goos], [TESTSVC, "v1.0.0", ""]);
    const err = await rejectsBuildInfo(readBuildInfo(file));
    assertMatch(
      err.reason,
      /^go1\.15\.\d+ binary for an unknown platform \?\/amd64 \(no GOOS\/GOARCH build setting, and its ELF header does not tell\): ysco cannot tell which build to fetch$/,
    );
  });
});

Deno.test("readBuildInfo() reads only the parts it needs", async () => {
  const bytes = await Deno.readFile(await goBuild({ version: "v1.0.0" }));
  const counted = countingReader(bytes);
  await readBuildInfoFrom(counted.reader, "testsvc");
  const [read, calls] = [counted.bytes(), counted.calls()];
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
    // A length beyond the data: Go reads no version, so it is not a Go executable.
    ["huge version length", patchMagic(real, 32, [0xff, 0xff, 0xff, 0xff, 0x0f]), /no Go version/],
    ["no magic", patchMagic(real, 0, [0]), /not a Go executable \(no build info\)/],
  ];
  for (const [name, bytes, want] of cases) {
    await t.step(name, async () => {
      const file = `${dir.path}/${name.replaceAll(" ", "_")}`;
      await Deno.writeFile(file, bytes);
      const err = await rejectsBuildInfo(readBuildInfo(file));
      assertMatch(err.reason, want);
      assertMatch(err.message, new RegExp(`^${file}: `));
    });
  }
  await t.step("directory", async () => {
    const err = await rejectsBuildInfo(readBuildInfo(dir.path));
    assertEquals(err.reason, "not a regular file (a directory)");
  });
  await t.step("missing file", async () => {
    const err = await rejectsBuildInfo(readBuildInfo(`${dir.path}/missing`));
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
