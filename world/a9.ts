/**
 * The worked example of docs/protocols.md section 3.12 (how it was made: section 5.1): five builds,
 * their binaries and record texts, and the exact bytes a gobuild server signing with
 * the test key serves.
 *
 * @module
 */

import type { BuildSpec } from "../src/verify/buildspec.ts";

/** One build of the example: spec, binary bytes, record text and leaf hash (base64). */
export interface ExampleBuild {
  spec: BuildSpec;
  binary: string;
  text: string;
  leaf: string;
}

function spec(
  mod: string,
  version: string,
  dir: string,
  goos: string,
  goarch: string,
  goversion: string,
  stripped: boolean,
): BuildSpec {
  return { mod, version, dir, goos, goarch, goversion, stripped };
}

/** The five builds, in log order. Records 1 and 2 are unstripped: a space before the newline. */
export const A9_BUILDS: ExampleBuild[] = [
  {
    spec: spec("github.com/mjl-/ysco", "v0.1.0", "/", "linux", "amd64", "go1.23.3", true),
    binary: "binary one\n",
    text:
      "github.com/mjl-/ysco v0.1.0 / linux amd64 go1.23.3 11 02s6CNxUluBcpMp1tV5vHg--VzWo stripped\n",
    leaf: "22FQQywiNCWpjE5Wg8HpQTO6EIVbf84009ktrqTgIw8=",
  },
  {
    spec: spec("github.com/mjl-/ysco", "v0.1.0", "/", "linux", "amd64", "go1.23.3", false),
    binary: "binary two\n",
    text: "github.com/mjl-/ysco v0.1.0 / linux amd64 go1.23.3 11 0JOuoOVwxrMrz7aUQ3N0ltYXlYbQ \n",
    leaf: "A0MdBn3bb6xulcPkrPHZUGtIxiq4VMBtX6ozav0aJZY=",
  },
  {
    spec: spec("github.com/mjl-/gobuild", "v0.0.27", "/", "darwin", "arm64", "go1.24.2", false),
    binary: "binary three\n",
    text:
      "github.com/mjl-/gobuild v0.0.27 / darwin arm64 go1.24.2 13 0IpB78gehcglAIXjIZ2FIQz7ik7Y \n",
    leaf: "VdFgo/u2xE4nzzG8J24cpm7MLX/NwQBHKuDGgaFIRyY=",
  },
  {
    spec: spec("example.com/mod", "v1.2.3", "/cmd/tool", "windows", "amd64", "go1.24.2", true),
    binary: "binary four\n",
    text:
      "example.com/mod v1.2.3 /cmd/tool windows amd64 go1.24.2 12 0HuiE-wCTPrkm2_5VsEVCf5hOoP8 stripped\n",
    leaf: "67nxHQy2dMCtTv9XH43dURTAFtZkvZ34L+kkEuH68gA=",
  },
  {
    spec: spec("github.com/mjl-/moxtools", "v0.0.5", "/", "linux", "arm64", "go1.24.2", true),
    binary: "binary five\n",
    text:
      "github.com/mjl-/moxtools v0.0.5 / linux arm64 go1.24.2 12 0nzJWPIQgoPyo5hR5FNsEj-kKxjg stripped\n",
    leaf: "mlgUiRejQv3TiaB33PDwCFIgS1Mz3aZkN9eXbUD/6ac=",
  },
];

/** Tree hashes by size 1..5. */
export const A9_TREE_HASHES = [
  "22FQQywiNCWpjE5Wg8HpQTO6EIVbf84009ktrqTgIw8=",
  "RT7Gk16cmeGG51s5VjqTBnvrubN1L1zHMfbEHqIMYbI=",
  "iHt6B49Z1zaXpKyoh4VPNUmdDtbQf2lASx0gmIoeDFA=",
  "y+sbjr03Vrw7wW/zP5BwJ62TAbUgv6IDrzqSLF0AC4s=",
  "dz0AhjeKzB1nXq7tJQ69/zvTF+8p+9M/vRuf+jZr3sw=",
];

/** h(1, 1). */
export const A9_H11 = "NbdT1SKwfe12I90bySbJ1Q2JEAu6MnXi2egn8AXdVr0=";

/** `/tlog/latest` for the tree of size 5. */
export const A9_NOTE_5 =
  "go.sum database tree\n5\ndz0AhjeKzB1nXq7tJQ69/zvTF+8p+9M/vRuf+jZr3sw=\n\n\u2014 localhost f4MzRbkB2E6Z716u2Uz5nt4bLUz7KoXHtIvYsypg5paUNmRFwG9nPbKHjdhXKzKMDR/JdROvV1GB8dpoc3YCsQGYiAw=\n";

/** The signed note for size 3. */
export const A9_NOTE_3 =
  "go.sum database tree\n3\niHt6B49Z1zaXpKyoh4VPNUmdDtbQf2lASx0gmIoeDFA=\n\n\u2014 localhost f4MzRTcYi7xUoYjwaRNyYK00k0tbQwlmQ/h17n1Spm7K6PXOmsarSGEYZMl2KtIjnvFrt3jQ3Mh/3zVmoyzjBvPQggU=\n";

/** The signed note for size 0. */
export const A9_NOTE_0 =
  "go.sum database tree\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n\u2014 localhost f4MzRbK7n1bALfpNUQDAdSS22WBiuWjy4XPr94FrIJl2k1XdTPdNX8TygResFvTbSbwagtpDIxIJaELgPu+DTbGJfgg=\n";

/** Decoded signature of A9_NOTE_5: key hash and Ed25519 signature, hex. */
export const A9_SIGNATURE_5 = {
  keyHash: "7f833345",
  signature:
    "b901d84e99ef5eaed94cf99ede1b2d4cfb2a85c7b48bd8b32a60e69694366445c06f673db2878dd8572b328c0d1fc97513af575181f1da68737602b10198880c",
};

/** The lookup of record 3 in the tree of size 5. */
export const A9_LOOKUP_KEY = "example.com/mod@v1.2.3/cmd/tool/windows-amd64-go1.24.2-stripped/";

/** Its response. */
export const A9_LOOKUP_RESPONSE =
  "3\nexample.com/mod v1.2.3 /cmd/tool windows amd64 go1.24.2 12 0HuiE-wCTPrkm2_5VsEVCf5hOoP8 stripped\n\n" +
  A9_NOTE_5;

/** `/tlog/tile/8/0/000.p/5`, hex, one hash per line. */
export const A9_TILE = [
  "db6150432c223425a98c4e5683c1e94133ba10855b7fce34d3d92daea4e0230f",
  "03431d067ddb6fac6e95c3e4acf1d9506b48c62ab854c06d5faa336afd1a2596",
  "55d160a3fbb6c44e27cf31bc276e1ca66ecc2d7fcdc100472ae0c681a1484726",
  "ebb9f11d0cb674c0ad4eff571f8ddd5114c016d664bd9df82fe92412e1faf200",
  "9a58148917a342fdd389a077dcf0f00852204b5333dda66437d7976d40ffe9a7",
];

/** Data tile `/tlog/tile/8/data/000.p/5` in gobuild's format. */
export const A9_DATA_TILE = A9_BUILDS.map((b, i) => `${i}\n${b.text}\n`).join("");

/** RFC 6962 proofs in the tree of size 5. */
export const A9_PROOFS = {
  /** Inclusion of record 3. */
  record3: [
    "VdFgo/u2xE4nzzG8J24cpm7MLX/NwQBHKuDGgaFIRyY=",
    "RT7Gk16cmeGG51s5VjqTBnvrubN1L1zHMfbEHqIMYbI=",
    "mlgUiRejQv3TiaB33PDwCFIgS1Mz3aZkN9eXbUD/6ac=",
  ],
  /** Consistency of the tree of size 3. */
  tree3: [
    "VdFgo/u2xE4nzzG8J24cpm7MLX/NwQBHKuDGgaFIRyY=",
    "67nxHQy2dMCtTv9XH43dURTAFtZkvZ34L+kkEuH68gA=",
    "RT7Gk16cmeGG51s5VjqTBnvrubN1L1zHMfbEHqIMYbI=",
    "mlgUiRejQv3TiaB33PDwCFIgS1Mz3aZkN9eXbUD/6ac=",
  ],
};

/** Tree hash of the records "record <i>\n" for i < 70000. */
export const A9_LARGE = { size: 70000, hash: "q9HMCgw+ixVNAypciVz8ZZDQuxUxwzBoB0Bi4V3wbdI=" };
