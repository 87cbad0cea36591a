import { assert, assertEquals, assertMatch, assertThrows } from "../_assert.ts";
import { goOracle } from "../../world/go.ts";
import { TEST_SIGNER_KEY, TEST_VERIFIER_KEY } from "../../world/gobuild_server.ts";
import { decodeBase64, encodeBase64, encodeBase64Url } from "../../src/verify/base64.ts";
import { VerificationError } from "../../src/verify/errors.ts";
import {
  formatSignerKey,
  openNote,
  parseSignerKey,
  signerFromSeed,
  signNote,
  verifierKeyOf,
} from "../../src/verify/note.ts";
import { parseVerifierKey, verifierKeyProblem } from "../../src/verify/verifier_key.ts";
import { A9_NOTE_0, A9_NOTE_3, A9_NOTE_5, A9_SIGNATURE_5 } from "../../world/a9.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

const GOOD_KEYS = [
  // The public beta's key.
  "beta.gobuilds.org+3979319f+AReBl47t6/Zl24/pmarcKhJtsfAU2c1F5Wtu4hrOgOQQ",
  // The test key: its base64 part contains "+".
  TEST_VERIFIER_KEY,
  // The Go sum database's key: "+" inside the base64 again.
  "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
  // ysco's test sumdb key.
  "localhost+7af406a6+AfWA0P/5hn0K1/QybqsBg3fD+9XzPNB/v1QG73x/K8Gi",
  // From Go's note documentation.
  "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
  // Uppercase hex digits in the hash are accepted.
  "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
];

const BAD_KEYS = [
  // The test key under another name: the hash does not match the name.
  "gobuild+7f833345+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKgJi",
  // Hash changed.
  "localhost+7f833346+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKgJi",
  // Hash too short.
  "localhost+7f83334+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKgJi",
  // Hash not hexadecimal.
  "localhost+7f83334g+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKgJi",
  // Missing padding in the base64 part.
  "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
  // Truncated key.
  "localhost+7f833345+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKg==",
  // Empty name.
  "+7f833345+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKgJi",
  // White space in the name.
  "local host+7f833345+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKgJi",
  // Nothing after the name.
  "localhost",
  // No key.
  "localhost+7f833345+",
  "",
];

Deno.test("parseVerifierKey() accepts keys split at the first two plus signs only", () => {
  for (const key of GOOD_KEYS) {
    const k = parseVerifierKey(key);
    assertEquals(k.publicKey.length, 32, key);
    assertEquals(k.text, key);
    assertEquals(verifierKeyProblem(key), undefined);
  }
  const test = parseVerifierKey(TEST_VERIFIER_KEY);
  assertEquals(test.name, "localhost");
  assertEquals(test.hash, 0x7f833345);
  assertEquals(
    hex(test.publicKey),
    "16ecfbb02f32333aa4aed704acce61c4782a8e935ce3b44ef4f10676072a0262",
  );
});

Deno.test("parseVerifierKey() rejects malformed keys and wrong hashes with the reason", () => {
  for (const key of BAD_KEYS) {
    assertThrows(() => parseVerifierKey(key), SyntaxError, undefined, key);
    assert(verifierKeyProblem(key) !== undefined, key);
  }
  assertMatch(
    verifierKeyProblem("gobuild+7f833345+ARbs+7AvMjM6pK7XBKzOYcR4Ko6TXOO0TvTxBnYHKgJi") ?? "",
    /^the hash does not match the name and key \(expected [0-9a-f]{8}\)$/,
  );
});

Deno.test("parseVerifierKey() agrees with Go's note.NewVerifier", async () => {
  const keys = [...GOOD_KEYS, ...BAD_KEYS];
  // Variants of a good key: every single-character change of its base64 and hash parts.
  const base = TEST_VERIFIER_KEY;
  for (let i = 10; i < base.length; i += 3) {
    keys.push(base.slice(0, i) + (base[i] === "A" ? "B" : "A") + base.slice(i + 1));
    keys.push(base.slice(0, i) + base.slice(i + 1));
  }
  keys.push(base + "=", base + " ", "a+b+c+d", base.replace("localhost", "localhost\u00a0"));
  const answers = await goOracle(keys.map((k) => ["note.verifier", k]));
  for (const [i, key] of keys.entries()) {
    let ours: string;
    try {
      const k = parseVerifierKey(key);
      ours = `ok ${k.name} ${k.hash.toString(16).padStart(8, "0")}`;
    } catch {
      ours = "error";
    }
    const go = answers[i] ?? "";
    assertEquals(ours, go.startsWith("error") ? "error" : go, JSON.stringify(key));
  }
});

Deno.test("parseSignerKey() reads the test key of docs/protocols.md section 3.12 and signs byte-identical notes", () => {
  const signer = parseSignerKey(TEST_SIGNER_KEY);
  assertEquals(
    hex(signer.seed),
    "4168c739ecda0aa3167a7a144c3d27af6046680e31e9944d84699791fd6af619",
  );
  assertEquals(verifierKeyOf(signer), TEST_VERIFIER_KEY);
  assertEquals(formatSignerKey(signer), TEST_SIGNER_KEY);
  const text = "go.sum database tree\n5\ndz0AhjeKzB1nXq7tJQ69/zvTF+8p+9M/vRuf+jZr3sw=\n";
  assertEquals(new TextDecoder().decode(signNote(text, [signer])), A9_NOTE_5);
  const sig = decodeBase64(A9_NOTE_5.slice(A9_NOTE_5.lastIndexOf(" ") + 1, -1)) ?? new Uint8Array();
  assertEquals(hex(sig.subarray(0, 4)), A9_SIGNATURE_5.keyHash);
  assertEquals(hex(sig.subarray(4)), A9_SIGNATURE_5.signature);
  assertThrows(() => parseSignerKey(TEST_SIGNER_KEY.replace("7f833345", "7f833346")), SyntaxError);
  assertThrows(() => parseSignerKey(TEST_VERIFIER_KEY), SyntaxError);
});

Deno.test("openNote() opens the signed notes of docs/protocols.md section 3.12 and Go's documentation", () => {
  const key = parseVerifierKey(TEST_VERIFIER_KEY);
  for (const [note, size] of [[A9_NOTE_5, "5"], [A9_NOTE_3, "3"], [A9_NOTE_0, "0"]] as const) {
    const n = openNote(enc(note), key);
    assertEquals(n.text.split("\n")[1], size);
    assertEquals(n.signatures.length, 1);
  }
  const peter = parseVerifierKey(
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
  );
  const msg =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
  assertEquals(
    openNote(enc(msg), peter).text,
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
  );
});

Deno.test("openNote() ignores unknown signers and rejects bad signatures by the known key", async (t) => {
  const key = parseVerifierKey(TEST_VERIFIER_KEY);
  const signer = parseSignerKey(TEST_SIGNER_KEY);
  const other = signerFromSeed("witness", new Uint8Array(32).fill(7));
  const sameName = signerFromSeed("localhost", new Uint8Array(32).fill(9));
  const text = "go.sum database tree\n5\ndz0AhjeKzB1nXq7tJQ69/zvTF+8p+9M/vRuf+jZr3sw=\n";
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);

  await t.step("an extra unknown signature is ignored", () => {
    const n = openNote(signNote(text, [other, signer]), key);
    assertEquals(n.signatures.length, 1);
    assertEquals(n.unverified.map((s) => s.name), ["witness"]);
  });
  await t.step("only unknown signatures: no signature by the key", () => {
    assertThrows(() => openNote(signNote(text, [other]), key), {
      name: "VerificationError",
      message: /no signature by key localhost\+7f833345 \(signed by witness\+/,
    });
    // Same name, other key: another key hash, so unknown too.
    assertThrows(() => openNote(signNote(text, [sameName]), key), {
      name: "VerificationError",
      message: /no signature by key/,
    });
  });
  await t.step("a changed signature by the known key is an error", () => {
    const good = dec(signNote(text, [signer]));
    const at = good.lastIndexOf(" ") + 20;
    const bad = good.slice(0, at) + (good[at] === "A" ? "B" : "A") + good.slice(at + 1);
    assertThrows(() => openNote(enc(bad), key), {
      name: "VerificationError",
      message: /invalid signature for key localhost\+7f833345/,
    });
  });
  await t.step("a changed text is an error", () => {
    const good = dec(signNote(text, [signer]));
    assertThrows(() => openNote(enc(good.replace("\n5\n", "\n6\n")), key), VerificationError);
  });
  await t.step("malformed notes", () => {
    const good = dec(signNote(text, [signer]));
    for (
      const bad of [
        good.replace("\n\n", "\n"), // no blank line
        good.slice(0, -1), // signature block without final newline
        good.replace("\u2014", "-"), // not an em dash
        good.replace("go.sum", "go\tsum"), // control character
        text + "\n", // no signatures
      ]
    ) {
      assertThrows(() => openNote(enc(bad), key), SyntaxError, undefined, JSON.stringify(bad));
    }
    assertThrows(() => openNote(new Uint8Array([0xff, 0x0a, 0x0a]), key), SyntaxError);
  });
});

Deno.test("openNote() agrees with Go's note.Open on altered notes", async () => {
  const signer = parseSignerKey(TEST_SIGNER_KEY);
  const other = signerFromSeed("witness", new Uint8Array(32).fill(7));
  const text = "go.sum database tree\n5\ndz0AhjeKzB1nXq7tJQ69/zvTF+8p+9M/vRuf+jZr3sw=\n";
  const good = new TextDecoder().decode(signNote(text, [other, signer]));
  const many = text + "\n" + `\u2014 witness ${encodeBase64(new Uint8Array(68))}\n`.repeat(101);
  const notes = [
    good,
    good + good.slice(good.indexOf("\n\n") + 2), // every signature twice
    good.replace("witness", "wit ness"),
    good.replace(/ [A-Za-z0-9+/=]+\n$/, " AAAA\n"), // too short
    good.replace(/ [A-Za-z0-9+/=]+\n$/, " \n"),
    good.replace(
      / [A-Za-z0-9+/=]+\n$/,
      ` ${encodeBase64(new Uint8Array([0x7f, 0x83, 0x33, 0x45, 1]))}\n`,
    ),
    "\ufeff" + good, // a byte order mark is text
    good.replace("tree", "tr\u00e9e"),
    many,
    many.replace(/\n\u2014 witness [^\n]*\n$/, "\n"), // exactly 100 signatures
    new TextDecoder().decode(signNote("line\n\nafter blank\n", [signer])),
  ];
  const answers = await goOracle(
    notes.map((n) => ["note.open", TEST_VERIFIER_KEY, encodeBase64(enc(n))]),
  );
  const key = parseVerifierKey(TEST_VERIFIER_KEY);
  for (const [i, n] of notes.entries()) {
    let ours: string;
    try {
      const o = openNote(enc(n), key);
      ours = `ok ${encodeBase64(enc(o.text))} ${o.signatures.length} ${o.unverified.length}`;
    } catch {
      ours = "error";
    }
    const go = answers[i] ?? "";
    assertEquals(ours, go.startsWith("error") ? "error" : go, `note ${i}: ${JSON.stringify(n)}`);
  }
});

Deno.test("base64 helpers agree with Go's encodings", () => {
  const rows: Array<[number[], string, string]> = [
    // bytes, StdEncoding, RawURLEncoding
    [[], "", ""],
    [[0xfb], "+w==", "-w"],
    [[0xfb, 0xff], "+/8=", "-_8"],
    [[0xfb, 0xff, 0xbf], "+/+/", "-_-_"],
  ];
  for (const [bytes, std, url] of rows) {
    const b = new Uint8Array(bytes);
    assertEquals(encodeBase64(b), std);
    assertEquals(encodeBase64Url(b), url);
    assertEquals(Array.from(decodeBase64(std) ?? []), bytes);
  }
  for (const bad of ["+w", "+w=", "+===", "+w==+w==", "a"]) {
    assertEquals(decodeBase64(bad), undefined, bad);
  }
  assertEquals(Array.from(decodeBase64("+w\r\n==") ?? []), [0xfb]);
});
