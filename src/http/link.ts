/**
 * Which URLs may be written into the mirror metadata: a Link field value (RFC 8288 §3),
 * an X-Mirrored-By line or a Metalink <url>.
 *
 * RFC 8288 §3:  link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
 * Nothing inside "<" ">" can be escaped, and a URI-Reference (RFC 3986 §4.1) has no
 * "<", ">", space, '"', control or non-ASCII character anyway, so a target holding any
 * character outside RFC 3986's set (§2), or a "%" not followed by two hex digits (§2.1),
 * is refused, not repaired: percent-encode it before calling. The base checks every
 * configured target URL with mirrorUrlProblem once, at configuration time, and then writes
 * its Link values by concatenation (base/mirror-headers.ts): only validated URLs, a
 * canonical path and an encoded query ever reach them.
 */

export interface Rejected {
  url: string;
  reason: string;
}

const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const MIRROR_SCHEMES = new Set(["http:", "https:", "ftp:"]);

/** Why `target` cannot go between "<" and ">" (RFC 3986 §2, §4.1), or undefined. */
export function uriReferenceProblem(target: string): string | undefined {
  if (target === "") return "empty URI";
  if (!URI_CHARS.test(target)) {
    const bad = [...target].find((c) => !URI_CHARS.test(c)) ?? "";
    const code = bad.codePointAt(0) ?? 0;
    return `character U+${code.toString(16).toUpperCase().padStart(4, "0")} is not allowed in a URI (RFC 3986 §2)`;
  }
  if (BAD_PERCENT.test(target)) return '"%" not followed by two hex digits (RFC 3986 §2.1)';
  return undefined;
}

/** Why `url` cannot name a mirror (absolute http, https or ftp URI), or undefined. */
export function mirrorUrlProblem(url: string): string | undefined {
  const problem = uriReferenceProblem(url);
  if (problem) return problem;
  if (!SCHEME.test(url)) return "not an absolute URI";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "not a valid URL";
  }
  if (!MIRROR_SCHEMES.has(parsed.protocol)) return `scheme ${parsed.protocol} is not http, https or ftp`;
  if (parsed.hostname === "") return "no host";
  return undefined;
}
