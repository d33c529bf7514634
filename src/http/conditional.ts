/**
 * Conditional requests (RFC 9110 §13) against a stored representation.
 *
 * We follow the RFC. Where nginx 1.22 (ngx_http_not_modified_filter_module,
 * ngx_http_range_filter_module) differs, for a static file that always has a
 * strong ETag and a Last-Modified:
 * - If-Modified-Since: the RFC answers 304 when Last-Modified <= the date.
 *   nginx's default `if_modified_since exact` only when they are equal; it
 *   matches the RFC with `if_modified_since before;` (the oracle's setting).
 * - If-None-Match together with If-Modified-Since: the RFC ignores IMS (304
 *   when the etag matches); nginx requires both to say "not modified".
 * - If-Unmodified-Since together with If-Match: the RFC ignores IUS; nginx
 *   evaluates both (412 when either fails). nginx also answers 412 when the
 *   IUS date is invalid; the RFC (§13.1.4) says to ignore it.
 * - If-Match "*" : nginx needs an ETag to exist; the RFC only a representation.
 * - If-Match / If-Range with a weak etag: nginx compares bytes (W/"x" matches
 *   W/"x"); the RFC's strong comparison never matches a weak tag.
 * - If-Range with a date: both require exact equality with Last-Modified;
 *   nginx, like us, does not judge whether Last-Modified is strong (§8.8.2.2).
 */

import { etagMatches, parseEntityTag, strongCompare } from "./etag";
import { parseHttpDate } from "./http-date";

export { etagMatches } from "./etag";
export { formatHttpDate, parseHttpDate } from "./http-date";

export interface Validators {
  etag?: string | null;
  lastModified?: string | null;
}

export type PreconditionResult = "proceed" | "not-modified" | "precondition-failed";

function isGetOrHead(method: string): boolean {
  const m = method.toUpperCase();
  return m === "GET" || m === "HEAD";
}

function lastModifiedMs(v: Validators): number | undefined {
  return v.lastModified ? parseHttpDate(v.lastModified) : undefined;
}

/**
 * Evaluates If-Match, If-Unmodified-Since, If-None-Match and
 * If-Modified-Since in the order of RFC 9110 §13.2.2 (steps 1-4; step 5,
 * If-Range, is ifRangeAllows). The stored representation exists.
 */
export function evaluatePreconditions(
  method: string,
  headers: Headers,
  v: Validators,
): PreconditionResult {
  const ifMatch = headers.get("If-Match");
  if (ifMatch !== null) {
    // Step 1, §13.1.1: strong comparison; "*" true as the representation exists.
    if (!etagMatches(ifMatch, v.etag ?? "", false)) return "precondition-failed";
  } else {
    // Step 2, §13.1.4: only without If-Match; an invalid date is ignored.
    // Last-Modified is parsed only when a date asks for it: every hit passes here.
    const ius = headers.get("If-Unmodified-Since");
    const date = ius === null ? undefined : parseHttpDate(ius);
    if (date !== undefined) {
      const lm = lastModifiedMs(v);
      if (lm !== undefined && lm > date) return "precondition-failed";
    }
  }

  const ifNoneMatch = headers.get("If-None-Match");
  if (ifNoneMatch !== null) {
    // Step 3, §13.1.2: weak comparison; a match is 304 for GET/HEAD, else 412.
    if (etagMatches(ifNoneMatch, v.etag ?? "", true)) {
      return isGetOrHead(method) ? "not-modified" : "precondition-failed";
    }
    return "proceed";
  }

  // Step 4, §13.1.3: only GET/HEAD without If-None-Match; invalid dates ignored.
  const ims = headers.get("If-Modified-Since");
  if (ims !== null && isGetOrHead(method)) {
    const date = parseHttpDate(ims);
    const lm = lastModifiedMs(v);
    if (date !== undefined && lm !== undefined && lm <= date) return "not-modified";
  }
  return "proceed";
}

/**
 * §13.1.5 If-Range: whether a Range header may be honoured. Absent → true.
 * An entity-tag must match the stored ETag by strong comparison (a weak tag
 * never does); an HTTP-date must equal Last-Modified exactly. Anything else
 * (malformed value, missing validator) is false: send the whole body.
 */
export function ifRangeAllows(headers: Headers, v: Validators): boolean {
  const value = headers.get("If-Range");
  if (value === null) return true;
  const text = value.trim();
  if (text.startsWith('"') || text.startsWith("W/")) {
    const requested = parseEntityTag(text);
    const current = v.etag ? parseEntityTag(v.etag) : undefined;
    return requested !== undefined && current !== undefined && strongCompare(requested, current);
  }
  const date = parseHttpDate(text);
  const lm = lastModifiedMs(v);
  return date !== undefined && lm !== undefined && date === lm;
}
