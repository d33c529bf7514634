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
    const [scheme, value] = [auth.slice(0, auth.indexOf(" ")).toLowerCase(), auth.slice(auth.indexOf(" ") + 1).trim()];
    if (scheme === "bearer" && value) return value;
    if (scheme === "basic" && value) {
      try {
        const decoded = atob(value);
        const colon = decoded.indexOf(":");
        if (colon >= 0) return decoded.slice(colon + 1);
      } catch {
        return null;
      }
    }
    return null;
  }
  return queryParam && url ? url.searchParams.get(queryParam) : null;
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
