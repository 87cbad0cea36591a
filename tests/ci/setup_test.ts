/**
 * `.ci/setup` reads the Debian mirror from the machine's own apt sources, in both
 * formats apt knows: its debian_mirror function, run by bash against real files.
 *
 * @module
 */

import { assertEquals, assertMatch } from "../_assert.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../../world/util.ts";

const SETUP = fileURLToPath(new URL("../../.ci/setup", import.meta.url));

/** Runs `debian_mirror CODENAME FILE...` of .ci/setup: exit code, stdout, stderr. */
async function debianMirror(
  codename: string,
  files: string[],
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command("bash", {
    // $0 is "bash", so that sourcing .ci/setup only defines its functions.
    args: ["-c", 'source "$1" && shift && debian_mirror "$@"', "bash", SETUP, codename, ...files],
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await child.output();
  const dec = new TextDecoder();
  return { code, out: dec.decode(stdout), err: dec.decode(stderr) };
}

/** Writes files into a new temporary directory and returns their paths. */
async function writeFiles(
  dir: string,
  files: Record<string, string>,
): Promise<Record<string, string>> {
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    paths[name] = join(dir, name);
    await Deno.writeTextFile(join(dir, name), text);
  }
  return paths;
}

// A Debian 12 machine's debian.sources: the archive, and the security archive after it.
const DEB822 = `Types: deb
# a comment inside the stanza, as image builders write them
URIs: http://127.0.0.1:3142/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://127.0.0.1:3142/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

Deno.test("debian_mirror reads the archive's URIs from deb822 sources", async () => {
  await using dir = await tempDir("ysco-ci-");
  const f = await writeFiles(dir.path, {
    "debian.sources": DEB822,
    "several.sources": `# Only source packages here.
Types: deb-src
URIs: file:/srv/src-only
Suites: bookworm
Components: main

Types: deb
URIs: file:/srv/disabled
Suites: bookworm
Components: main
Enabled: no

Types: deb
URIs: file:/srv/contrib-only
Suites: bookworm
Components: contrib

types: deb deb-src
uris: http://127.0.0.1:3142/debian
 file:/srv/mirror/debian
suites:
 bookworm-updates
 bookworm
components: main contrib non-free-firmware
`,
  });
  assertEquals(await debianMirror("bookworm", [f["debian.sources"] ?? ""]), {
    code: 0,
    out: "http://127.0.0.1:3142/debian\n",
    err: "",
  });
  assertEquals(
    (await debianMirror("bookworm", [f["several.sources"] ?? ""])).out,
    "http://127.0.0.1:3142/debian file:/srv/mirror/debian\n",
  );
  // bookworm-security is another suite.
  assertEquals(
    (await debianMirror("bookworm-security", [f["debian.sources"] ?? ""])).out,
    "http://127.0.0.1:3142/debian-security\n",
  );
});

Deno.test("debian_mirror reads the archive's URIs from one-line sources.list", async () => {
  await using dir = await tempDir("ysco-ci-");
  const f = await writeFiles(dir.path, {
    "sources.list": `# deb http://127.0.0.1:9/commented bookworm main
deb-src http://127.0.0.1:3142/src bookworm main
deb http://127.0.0.1:3142/debian-security bookworm-security main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://127.0.0.1:3142/debian bookworm main contrib
deb [ arch=amd64 ] file:/srv/mirror/debian bookworm non-free main
deb http://127.0.0.1:3142/debian bookworm main
deb http://127.0.0.1:3142/contrib bookworm contrib
`,
  });
  assertEquals(await debianMirror("bookworm", [f["sources.list"] ?? ""]), {
    code: 0,
    out: "http://127.0.0.1:3142/debian file:/srv/mirror/debian\n",
    err: "",
  });
});

Deno.test("debian_mirror takes the first file that names the archive, and fails clearly without one", async () => {
  await using dir = await tempDir("ysco-ci-");
  const f = await writeFiles(dir.path, {
    "debian.sources": "# Emptied by the administrator.\n",
    "sources.list": "deb file:/srv/mirror/debian bookworm main\n",
    "other.list": "deb file:/srv/other/debian bookworm main\n",
  });
  const missing = join(dir.path, "absent.sources");
  assertEquals(
    (await debianMirror("bookworm", [
      missing,
      f["debian.sources"] ?? "",
      f["sources.list"] ?? "",
      f["other.list"] ?? "",
    ])).out,
    "file:/srv/mirror/debian\n",
  );
  const none = await debianMirror("bookworm", [missing, f["debian.sources"] ?? ""]);
  assertEquals(none.code, 1);
  assertEquals(none.out, "");
  assertMatch(
    none.err,
    /^Cannot find the Debian mirror: none of .*absent\.sources .*debian\.sources configures "deb \.\.\. bookworm main"; configure apt first\n$/,
  );
});
