/**
 * SHA-256 and SHA-512 for the whole program, through one implementation: node:crypto,
 * which hashes in Deno's native code with the CPU's SHA instructions. A download's
 * stream hashes at over 1.5 GB/s (a JavaScript SHA-256 manages a third of that with
 * V8's optimizing compiler and a twentieth without), and one transparency log node
 * hash takes about 2 microseconds.
 *
 * node:crypto is loaded at the first hash, not when this module is: loading it takes
 * some 12 ms, which `ysco run` would otherwise spend at every start (its configuration
 * imports the verifier key's code, which hashes only a key set in the file), and the
 * release bundle before every command (it hoists static imports of Node's modules).
 *
 * @module
 */

let nodeCrypto: typeof import("node:crypto") | undefined;

function createHash(algorithm: "sha256" | "sha512"): import("node:crypto").Hash {
  nodeCrypto ??= process.getBuiltinModule("node:crypto");
  return nodeCrypto.createHash(algorithm);
}

/** A SHA-256 computed piece by piece, for streams. */
export interface Sha256 {
  update(data: Uint8Array): void;
  /** The hash of everything given to update, 32 bytes. */
  digest(): Uint8Array<ArrayBuffer>;
}

/** A new streaming SHA-256. */
export function sha256Stream(): Sha256 {
  const hash = createHash("sha256");
  return {
    update(data) {
      hash.update(data);
    },
    digest: () => plain(hash.digest()),
  };
}

/** SHA-256 of the concatenation of parts, 32 bytes. */
export function sha256(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return plain(hash.digest());
}

/** SHA-512 of data, 64 bytes (for Ed25519). */
export function sha512(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return plain(createHash("sha512").update(data).digest());
}

/** A copy as a plain Uint8Array: Node's digests are Buffers, possibly in a shared pool. */
function plain(digest: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(digest);
}
