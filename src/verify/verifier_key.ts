/**
 * Verifier keys of signed notes (golang.org/x/mod/sumdb/note): `NAME+HASH+BASE64`,
 * e.g. `beta.gobuilds.org+3979319f+AReBl47t6/Zl24/pmarcKhJtsfAU2c1F5Wtu4hrOgOQQ`.
 * Split at the first two `+` only: the base64 part may itself contain `+`.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import { decodeBase64 } from "./base64.ts";
import { sha256 } from "./hash.ts";

/** The only signature algorithm of notes: Ed25519. */
export const ALG_ED25519 = 1;

/** A parsed verifier key. */
export interface VerifierKey {
  /** The key's name, e.g. "beta.gobuilds.org": no white space, no "+". */
  name: string;
  /** The key hash, an unsigned 32-bit number (first 4 bytes of SHA-256(name "\n" key)). */
  hash: number;
  /** The 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** The key as written. */
  text: string;
}

/**
 * Parses a verifier key exactly as Go's note.NewVerifier.
 * @throws SyntaxError "Cannot parse verifier key ...: <reason>"
 */
export function parseVerifierKey(text: string): VerifierKey {
  const fail = (reason: string): never => {
    throw new SyntaxError(`Cannot parse verifier key "${text}": ${reason}`);
  };
  if (text.split("+").length < 3) fail("want NAME+HASH+KEY");
  const [name, rest] = chop(text, "+");
  const [hash16, key64] = chop(rest, "+");
  if (!isValidKeyName(name)) {
    fail('the name must be non-empty, without white space or "+"');
  }
  if (!/^[0-9a-fA-F]{8}$/.test(hash16)) fail("the hash must be 8 hexadecimal digits");
  const key = decodeBase64(key64);
  if (key === undefined || key.length === 0) fail("the key is not base64");
  const keyBytes = key ?? new Uint8Array();
  const hash = parseInt(hash16, 16);
  if (hash !== keyHash(name, keyBytes)) {
    fail(`the hash does not match the name and key (expected ${hex8(keyHash(name, keyBytes))})`);
  }
  if (keyBytes[0] !== ALG_ED25519) fail(`unknown key algorithm ${keyBytes[0]}`);
  if (keyBytes.length !== 33) fail("an Ed25519 key must have 32 bytes");
  return { name, hash, publicKey: keyBytes.slice(1), text };
}

/** The reason text is not a valid verifier key, or undefined when it is (for config checks). */
export function verifierKeyProblem(text: string): string | undefined {
  try {
    parseVerifierKey(text);
    return undefined;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return err.message.replace(/^Cannot parse verifier key "[^]*?": /, "");
  }
}

/** The hash of a named key: the first 4 bytes (big-endian) of SHA-256(name "\n" key). */
export function keyHash(name: string, key: Uint8Array): number {
  const h = sha256(new TextEncoder().encode(name + "\n"), key);
  return new DataView(h.buffer, h.byteOffset, h.byteLength).getUint32(0);
}

/**
 * Whether name is a valid key or signer name (Go's isValidName): non-empty, no
 * Unicode white space, no "+".
 */
export function isValidKeyName(name: string): boolean {
  return name !== "" && !/\p{White_Space}/u.test(name) && !name.includes("+") &&
    !/\p{Cs}/u.test(name); // lone surrogates are not valid UTF-8
}

/** A key hash as 8 lowercase hex digits. */
export function hex8(hash: number): string {
  return hash.toString(16).padStart(8, "0");
}

/** Splits s at the first sep: [before, after]; [s, ""] when sep is absent (Go's chop). */
export function chop(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + sep.length)];
}
