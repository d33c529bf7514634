/**
 * Shared-secret authentication for the control endpoints (/ath/*, /_admin): the token
 * may come as a bearer token (RFC 6750 §2.1), as the password of HTTP Basic (RFC 7617;
 * any user name, so a browser's login prompt works) or, where a caller allows it, as a
 * query parameter (mod_athena's agents push stats with plain GET URLs).
 */

/** The token the request presents, or null. */
export function presentedToken(headers: Headers, url?: URL, queryParam?: string): string | null {
  const auth = headers.get("authorization");
  if (auth) {
    // RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ... ]; a bare scheme has no value.
    const space = auth.indexOf(" ");
    if (space < 0) return null;
    const scheme = auth.slice(0, space).toLowerCase();
    const value = auth.slice(space + 1).trim();
    if (scheme === "bearer" && value) return value;
    if (scheme === "basic" && value) return basicPassword(value);
    return null;
  }
  return queryParam && url ? url.searchParams.get(queryParam) : null;
}

/**
 * The password of RFC 7617 Basic credentials: base64 of "user:password" in UTF-8 (§2.1,
 * the charset every browser uses now). Null, never an exception, for anything else: not
 * base64, not UTF-8, no ":".
 */
function basicPassword(value: string): string | null {
  let binary: string;
  try {
    binary = atob(value);
  } catch {
    return null;
  }
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  return colon >= 0 ? decoded.slice(colon + 1) : null;
}

const utf8 = new TextEncoder();

/**
 * Constant-time comparison. Both sides are hashed first so the comparison has a fixed
 * length and neither the secret's length nor the position of the first difference leaks
 * through timing.
 */
export async function sameSecret(presented: string | null, secret: string): Promise<boolean> {
  if (presented === null) return false;
  const [a, b] = await Promise.all([crypto.subtle.digest("SHA-256", utf8.encode(presented)), crypto.subtle.digest("SHA-256", utf8.encode(secret))]);
  return crypto.subtle.timingSafeEqual(a, b);
}
