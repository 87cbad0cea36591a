/**
 * Base64 as Go's encoding/base64 does it, for byte-exact agreement with gobuild's
 * notes, keys and sums: the standard alphabet with required padding (decoding skips
 * `\r` and `\n`, as Go's does), and the URL alphabet without padding. The one place
 * the program encodes base64, on JavaScript's built-in Uint8Array conversions; the
 * decoder checks Go's rules first, which are stricter than the built-in's.
 *
 * Pure functions, no I/O.
 *
 * @module
 */

/** Encodes bytes in standard base64 with padding (Go's base64.StdEncoding). */
export function encodeBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/** Encodes bytes in URL-safe base64 without padding (Go's base64.RawURLEncoding). */
export function encodeBase64Url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Go's StdEncoding after removing `\r` and `\n`: whole quanta, padding only at the end. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard base64 with padding exactly as Go's base64.StdEncoding.DecodeString:
 * `\r` and `\n` are skipped, padding is required, bits after the last full byte are
 * ignored.
 * @returns the bytes, or undefined when the text is not valid base64
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const s = text.replace(/[\r\n]/g, "");
  if (!STD_BASE64.test(s)) return undefined;
  return Uint8Array.fromBase64(s, { lastChunkHandling: "loose" });
}
