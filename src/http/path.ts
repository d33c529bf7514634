/**
 * Request path validation and canonicalisation.
 *
 * workerd keeps request.url's path exactly as the client sent it ("/a/../b",
 * "%2e%2e", "%2f" and "\" are not normalised) while `new URL()` would resolve
 * dot segments, so this works on the raw string. Anything that could make the
 * origin (or a cache key) see a different resource than the one we check is
 * refused with 400 rather than repaired:
 * - dot segments "." / ".." in any spelling (RFC 3986 §3.3, §5.2.4), judged
 *   after percent-decoding, so "%2e%2E" is "..". A segment whose part before its
 *   first ";" is "." or ".." counts too ("..;", ".;jsessionid=1", "%2e%2e%3Bx"):
 *   RFC 3986 §3.3 lets a segment carry ";params", and servers that strip them
 *   before resolving dot segments (Tomcat, Jetty) would read "/app/..;/x" as "/x";
 * - an encoded slash (%2F) or any backslash (literal or %5C), which servers
 *   disagree about;
 * - control characters (raw or encoded %00-%1F, %7F);
 * - malformed percent-encoding and bytes that are not UTF-8 once decoded;
 * - a path not starting with "/" or longer than 2048 bytes.
 * Repeated slashes are merged, like nginx's `merge_slashes on`.
 *
 * The canonical form re-encodes every segment (RFC 3986 §2.1, §2.3, §6.2.2):
 * unreserved characters, sub-delims, ":" and "@" (pchar, §3.3) literally,
 * everything else as %XX with uppercase hex; "/a%41" and "/aA" are equal.
 * The query is returned raw, without "?".
 */

export type PathResult =
  | { ok: true; path: string; query: string }
  | { ok: false; status: 400; reason: string };

export const MAX_PATH_BYTES = 2048;

/** pchar characters kept literal: unreserved / sub-delims / ":" / "@". */
const LITERAL = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;
const SCHEME_AND_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

type Segment = { ok: true; text: string } | { ok: false; reason: string };

function fail(reason: string): PathResult {
  return { ok: false, status: 400, reason };
}

function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

function hexValue(c: string | undefined): number {
  if (c === undefined) return -1;
  const v = "0123456789abcdef".indexOf(c.toLowerCase());
  return c.length === 1 ? v : -1;
}

/** Percent-decodes one raw segment to text, refusing what the module doc lists. */
function decodeSegment(raw: string): Segment {
  const bytes: number[] = [];
  const utf8 = new TextEncoder();
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] ?? "";
    if (ch === "%") {
      const hi = hexValue(raw[i + 1]);
      const lo = hexValue(raw[i + 2]);
      if (hi < 0 || lo < 0) return { ok: false, reason: "malformed percent-encoding in path" };
      const b = hi * 16 + lo;
      if (b === 0x2f) return { ok: false, reason: "encoded slash (%2F) in path" };
      if (b === 0x5c) return { ok: false, reason: "backslash in path" };
      if (isControl(b)) return { ok: false, reason: "control character in path" };
      bytes.push(b);
      i += 2;
    } else {
      const cp = raw.codePointAt(i) ?? 0;
      if (ch === "\\") return { ok: false, reason: "backslash in path" };
      if (isControl(cp)) return { ok: false, reason: "control character in path" };
      // codePointAt yields a lone surrogate's own code: not encodable as UTF-8.
      if (cp >= 0xd800 && cp <= 0xdfff) return { ok: false, reason: "invalid UTF-8 in path" };
      const char = String.fromCodePoint(cp);
      bytes.push(...utf8.encode(char));
      i += char.length - 1;
    }
  }
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
      Uint8Array.from(bytes),
    );
    return { ok: true, text };
  } catch {
    return { ok: false, reason: "invalid UTF-8 in path" };
  }
}

/** Re-encodes decoded segment text in canonical form (uppercase %XX). */
function encodeSegment(text: string): string {
  const utf8 = new TextEncoder();
  let out = "";
  for (const ch of text) {
    if (LITERAL.test(ch)) {
      out += ch;
      continue;
    }
    for (const b of utf8.encode(ch)) out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function byteLength(s: string): number {
  return new TextEncoder().encode(s).byteLength;
}

/**
 * Splits request.url into raw path and query. An absolute URL's empty path is
 * "/" (RFC 9110 §4.2.3); an origin-form target ("/x?y") is accepted as is.
 */
function splitTarget(rawUrl: string): { path: string; query: string } {
  let rest: string;
  const authority = SCHEME_AND_AUTHORITY.exec(rawUrl);
  if (authority) {
    rest = rawUrl.slice(authority[0].length);
    if (rest === "" || rest.startsWith("?") || rest.startsWith("#")) rest = "/" + rest;
  } else {
    rest = rawUrl;
  }
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  if (q < 0) return { path: rest, query: "" };
  return { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

/** Already canonical: "/"-separated non-empty runs of literal pchars, no "." or ".." segment. */
const CANONICAL_ASCII = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@]+)+\/?$/;
/** "." or ".." as a whole segment or before a ";param" (see isDotSegment). */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:[/;]|$)/;

/** A decoded segment that is "." or "..", or is one with ";params" after it. */
function isDotSegment(text: string): boolean {
  const semi = text.indexOf(";");
  const name = semi < 0 ? text : text.slice(0, semi);
  return name === "." || name === "..";
}

/** Validates request.url's raw path and returns its canonical form and raw query. */
export function canonicalRequestPath(rawUrl: string): PathResult {
  const { path, query } = splitTarget(rawUrl);
  // Fast path for the common case (every request goes through here): a plain ASCII path
  // that decoding and re-encoding would return unchanged.
  if (path.length <= MAX_PATH_BYTES && CANONICAL_ASCII.test(path) && !DOT_SEGMENT.test(path)) {
    return { ok: true, path, query };
  }
  if (!path.startsWith("/")) return fail("path must start with '/'");
  if (byteLength(path) > MAX_PATH_BYTES) return fail(`path longer than ${MAX_PATH_BYTES} bytes`);

  const rawSegments = path.split("/");
  const trailingSlash = path.length > 1 && path.endsWith("/");
  const out: string[] = [];
  for (const raw of rawSegments) {
    if (raw === "") continue; // leading "/", merged "//", trailing "/"
    const seg = decodeSegment(raw);
    if (!seg.ok) return fail(seg.reason);
    if (isDotSegment(seg.text)) return fail("dot segment in path");
    out.push(encodeSegment(seg.text));
  }
  let canonical = "/" + out.join("/");
  if (trailingSlash && out.length > 0) canonical += "/";
  if (byteLength(canonical) > MAX_PATH_BYTES) {
    return fail(`path longer than ${MAX_PATH_BYTES} bytes`);
  }
  return { ok: true, path: canonical, query };
}
