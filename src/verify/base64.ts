/**
 * Base64 as Go's encoding/base64 does it, for byte-exact agreement with gobuild's
 * notes, keys and sums: the standard alphabet with required padding (decoding skips
 * `\r` and `\n`, as Go's does), and the URL alphabet without padding.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const STD_VALUES = new Int16Array(256).fill(-1);
for (const [i, c] of [...STD].entries()) STD_VALUES[c.charCodeAt(0)] = i;

/** Encodes bytes in standard base64 with padding (Go's base64.StdEncoding). */
export function encodeBase64(bytes: Uint8Array): string {
  return encode(bytes, STD, true);
}

/** Encodes bytes in URL-safe base64 without padding (Go's base64.RawURLEncoding). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL, false);
}

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const v = (bytes[i] ?? 0) * 65536 + (bytes[i + 1] ?? 0) * 256 + (bytes[i + 2] ?? 0);
    out += alphabet.charAt(Math.floor(v / 262144)) + alphabet.charAt(Math.floor(v / 4096) % 64) +
      alphabet.charAt(Math.floor(v / 64) % 64) + alphabet.charAt(v % 64);
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const v = (bytes[i] ?? 0) * 65536 + (rest === 2 ? (bytes[i + 1] ?? 0) * 256 : 0);
    out += alphabet.charAt(Math.floor(v / 262144)) + alphabet.charAt(Math.floor(v / 4096) % 64);
    out += rest === 2 ? alphabet.charAt(Math.floor(v / 64) % 64) : pad ? "=" : "";
    if (pad) out += "=";
  }
  return out;
}

/**
 * Decodes standard base64 with padding exactly as Go's base64.StdEncoding.DecodeString:
 * `\r` and `\n` are skipped, padding is required, bits after the last full byte are
 * ignored.
 * @returns the bytes, or undefined when the text is not valid base64
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const s = text.replace(/[\r\n]/g, "");
  if (s.length % 4 !== 0) return undefined;
  const out = new Uint8Array((s.length / 4) * 3);
  let n = 0;
  for (let i = 0; i < s.length; i += 4) {
    const q = [0, 1, 2, 3].map((j) => STD_VALUES[s.charCodeAt(i + j)] ?? -1);
    const [a = -1, b = -1, c = -1, d = -1] = q;
    const last = i + 4 === s.length;
    if (a < 0 || b < 0) return undefined;
    if (c < 0 || d < 0) {
      // Only the final quantum may be padded: "xx==" or "xxx=".
      if (!last) return undefined;
      if (c < 0 && !(s[i + 2] === "=" && s[i + 3] === "=")) return undefined;
      if (c >= 0 && s[i + 3] !== "=") return undefined;
    }
    out[n++] = a * 4 + Math.floor(b / 16);
    if (c >= 0) out[n++] = (b % 16) * 16 + Math.floor(c / 4);
    if (c >= 0 && d >= 0) out[n++] = (c % 4) * 64 + d;
  }
  return out.subarray(0, n);
}
