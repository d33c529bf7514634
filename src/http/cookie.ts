/**
 * Reading the Cookie request header (RFC 6265 §5.4: "name=value" pairs joined by "; ").
 * Pure and total: any header value, however broken, gives a string or null, never a throw.
 */

/**
 * The named cookie's value, or null. RFC 6265 §4.2.1 cookie-pairs are split on ";", the
 * name compared exactly after trimming (names are case-sensitive, §5.4 keeps them as
 * sent); the first pair with the name wins (§5.4 step 2: a user agent sends the cookie
 * with the longest path first, so the first is the most specific); a value in DQUOTEs
 * (§4.1.1 cookie-value) is unquoted. A pair without "=" or with an empty name is skipped.
 */
export function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === name) return unquote(pair.slice(eq + 1).trim());
  }
  return null;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
