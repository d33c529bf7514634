/**
 * Reading one cookie from the Cookie request header (RFC 6265 §5.4: "name=value" pairs
 * joined by "; "), with Hono's maintained parser (hono/utils/cookie `parse`, the one
 * behind getCookie): names compared exactly after trimming, the first usable pair of a
 * name wins (§5.4 step 2: the most specific path comes first), DQUOTEs around a value
 * are dropped, percent-escapes decoded, and a value with bytes outside §4.1.1
 * cookie-octet (plus space) skipped. Total: any header value gives a string or null.
 * A plain header in, not a Context: the admin's authenticate and the farms' sticky
 * claim read it from Headers.
 */
import { parse } from "hono/utils/cookie";

export function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  const found = parse(header, name);
  // Own keys only: parse's early "{}" answer would give Object.prototype for "__proto__".
  return Object.hasOwn(found, name) ? (found[name] ?? null) : null;
}
