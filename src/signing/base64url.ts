/**
 * base64url without padding (RFC 4648 §5, padding omitted as §3.2 allows), over bytes.
 *
 * Decoding is strict: only the URL-safe alphabet, no "=", no length that cannot come from
 * whole bytes, and the unused low bits of the last character must be zero (RFC 4648 §3.5),
 * so every byte string has exactly one accepted spelling and a token cannot be varied
 * without changing what it says.
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;

export function encodeBase64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes, or undefined when `text` is not canonical unpadded base64url. */
export function decodeBase64url(text: string): Uint8Array | undefined {
  if (!ALPHABET.test(text) || text.length % 4 === 1) return undefined;
  let binary: string;
  try {
    binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return undefined;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  // Non-zero trailing bits decode to the same bytes; refuse them (RFC 4648 §3.5).
  return encodeBase64url(bytes) === text ? bytes : undefined;
}
