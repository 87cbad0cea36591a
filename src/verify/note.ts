/**
 * Signed notes (golang.org/x/mod/sumdb/note): a text ending in "\n", a blank line,
 * and signature lines `- NAME BASE64(keyhash || signature)`. gobuild signs its tree
 * heads this way with Ed25519.
 *
 * A note opens when at least one signature by the known key verifies; signatures by
 * unknown keys are ignored; a bad signature by the known key rejects the note.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

import * as ed from "@noble/ed25519";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { VerificationError } from "./errors.ts";
import { sha512 } from "./hash.ts";
import {
  ALG_ED25519,
  chop,
  hex8,
  isValidKeyName,
  keyHash,
  type VerifierKey,
} from "./verifier_key.ts";

// @noble/ed25519 needs a synchronous SHA-512 for its synchronous API.
ed.hashes.sha512 = sha512;

/** A signature line of a note. */
export interface NoteSignature {
  /** The signer's name. */
  name: string;
  /** The signer's key hash. */
  hash: number;
  /** The base64 text of the line (key hash and signature). */
  base64: string;
}

/** An opened note. */
export interface Note {
  /** The signed text, ending in "\n". */
  text: string;
  /** Signatures that verified with the known key (one). */
  signatures: NoteSignature[];
  /** Signatures by unknown keys, ignored. */
  unverified: NoteSignature[];
}

/** A signer key, `PRIVATE+KEY+NAME+HASH+BASE64(0x01 || seed)` (for test servers). */
export interface SignerKey {
  name: string;
  hash: number;
  /** The 32-byte Ed25519 seed. */
  seed: Uint8Array;
  /** The 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

const SIG_PREFIX = "\u2014 "; // em dash and space
const MAX_SIGNATURES = 100;
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Opens a signed note: checks its form and the signature of key, as Go's note.Open
 * with a single known verifier.
 * @throws SyntaxError for a malformed note
 * @throws VerificationError when no signature by key is present or a signature by key is bad
 */
export function openNote(msg: Uint8Array, key: VerifierKey): Note {
  const malformed = (reason: string): never => {
    throw new SyntaxError(`Cannot open signed note: malformed note (${reason})`);
  };
  let all = "";
  try {
    all = UTF8.decode(msg);
  } catch {
    malformed("not UTF-8");
  }
  for (const b of msg) {
    if (b < 0x20 && b !== 0x0a) malformed("control character");
  }
  const split = all.lastIndexOf("\n\n");
  if (split < 0) malformed("no blank line before the signatures");
  const text = all.slice(0, split + 1);
  let sigs = all.slice(split + 2);
  if (sigs === "" || !sigs.endsWith("\n")) malformed("no signature lines");

  const note: Note = { text, signatures: [], unverified: [] };
  const seen = new Set<string>();
  const seenUnverified = new Set<string>();
  const textBytes = new TextEncoder().encode(text);
  let count = 0;
  while (sigs !== "") {
    const i = sigs.indexOf("\n");
    let line = sigs.slice(0, i);
    sigs = sigs.slice(i + 1);
    if (!line.startsWith(SIG_PREFIX)) malformed("a signature line does not start with an em dash");
    line = line.slice(SIG_PREFIX.length);
    const [name, b64] = chop(line, " ");
    const sig = decodeBase64(b64);
    if (sig === undefined || !isValidKeyName(name) || b64 === "" || sig.length < 5) {
      malformed("bad signature line");
    }
    const bytes = sig ?? new Uint8Array();
    const hash = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
    if (++count > MAX_SIGNATURES) malformed(`more than ${MAX_SIGNATURES} signatures`);
    if (name !== key.name || hash !== key.hash) {
      if (!seenUnverified.has(line)) {
        seenUnverified.add(line);
        note.unverified.push({ name, hash, base64: b64 });
      }
      continue;
    }
    if (seen.has(name)) continue;
    seen.add(name);
    const signature = bytes.subarray(4);
    if (signature.length !== 64 || !verifyEd25519(signature, textBytes, key.publicKey)) {
      throw new VerificationError(
        `Cannot open signed note: invalid signature for key ${name}+${hex8(hash)}`,
      );
    }
    note.signatures.push({ name, hash, base64: b64 });
  }
  if (note.signatures.length === 0) {
    const others = note.unverified.map((s) => `${s.name}+${hex8(s.hash)}`).join(", ");
    throw new VerificationError(
      `Cannot open signed note: no signature by key ${key.name}+${hex8(key.hash)}` +
        ` (signed by ${others})`,
    );
  }
  return note;
}

function verifyEd25519(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed.verify(sig, msg, publicKey, { zip215: false });
  } catch {
    return false; // e.g. a public key that is not a curve point
  }
}

/**
 * Parses a signer key as Go's note.NewSigner.
 * @throws SyntaxError "Cannot parse signer key: <reason>" (the key itself is not shown)
 */
export function parseSignerKey(text: string): SignerKey {
  const fail = (reason: string): never => {
    throw new SyntaxError(`Cannot parse signer key: ${reason}`);
  };
  const [priv1, r1] = chop(text, "+");
  const [priv2, r2] = chop(r1, "+");
  const [name, r3] = chop(r2, "+");
  const [hash16, key64] = chop(r3, "+");
  const key = decodeBase64(key64);
  if (
    priv1 !== "PRIVATE" || priv2 !== "KEY" || !/^[0-9a-fA-F]{8}$/.test(hash16) ||
    key === undefined || key.length === 0 || !isValidKeyName(name)
  ) {
    fail("not PRIVATE+KEY+NAME+HASH+BASE64");
  }
  const bytes = key ?? new Uint8Array();
  if (bytes[0] !== ALG_ED25519) fail(`unknown key algorithm ${bytes[0]}`);
  if (bytes.length !== 33) fail("an Ed25519 seed must have 32 bytes");
  const seed = bytes.slice(1);
  const publicKey = ed.getPublicKey(seed);
  const hash = parseInt(hash16, 16);
  if (hash !== keyHash(name, concat(new Uint8Array([ALG_ED25519]), publicKey))) {
    fail("the hash does not match the name and key");
  }
  return { name, hash, seed, publicKey };
}

/** A signer with the given name for an Ed25519 seed (32 bytes), e.g. to make a test key. */
export function signerFromSeed(name: string, seed: Uint8Array): SignerKey {
  if (!isValidKeyName(name)) throw new SyntaxError(`Cannot make signer: bad name "${name}"`);
  if (seed.length !== 32) throw new RangeError("Cannot make signer: the seed must have 32 bytes");
  const publicKey = ed.getPublicKey(seed);
  const hash = keyHash(name, concat(new Uint8Array([ALG_ED25519]), publicKey));
  return { name, hash, seed: seed.slice(), publicKey };
}

/** The text of a signer key: `PRIVATE+KEY+NAME+HASH+BASE64(0x01 || seed)`. */
export function formatSignerKey(signer: SignerKey): string {
  const key = concat(new Uint8Array([ALG_ED25519]), signer.seed);
  return `PRIVATE+KEY+${signer.name}+${hex8(signer.hash)}+${encodeBase64(key)}`;
}

/** The verifier key text of a signer: `NAME+HASH+BASE64(0x01 || public key)`. */
export function verifierKeyOf(signer: SignerKey): string {
  const key = concat(new Uint8Array([ALG_ED25519]), signer.publicKey);
  return `${signer.name}+${hex8(signer.hash)}+${encodeBase64(key)}`;
}

/**
 * Signs text (which must end in "\n") with each signer, as Go's note.Sign.
 * @returns the signed note
 */
export function signNote(text: string, signers: readonly SignerKey[]): Uint8Array {
  if (!text.endsWith("\n")) throw new SyntaxError("Cannot sign note: text must end in a newline");
  const textBytes = new TextEncoder().encode(text);
  let out = text + "\n";
  for (const s of signers) {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, s.hash);
    const sig = ed.sign(textBytes, s.seed);
    out += `${SIG_PREFIX}${s.name} ${encodeBase64(concat(head, sig))}\n`;
  }
  return new TextEncoder().encode(out);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
