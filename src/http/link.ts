/**
 * Link header fields (RFC 8288 §3) for mirrors: Metalink/HTTP duplicates (RFC 6249 §3)
 * and the legacy X-Mirrored-By header.
 *
 * RFC 8288 §3:  link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
 *               link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
 * Nothing inside "<" ">" can be escaped, and a URI-Reference (RFC 3986 §4.1) has no
 * "<", ">", space, '"', control or non-ASCII character anyway, so a target holding any
 * character outside RFC 3986's set (§2), or a "%" not followed by two hex digits (§2.1),
 * is refused, not repaired: percent-encode it before calling. Parameter values are
 * written as a token when they can be, else as a quoted-string (RFC 9110 §5.6.4) with
 * '"' and "\" escaped; non-ASCII values (which need RFC 8187) and controls are refused.
 */

export type LinkParamValue = string | number | true;

export interface Link {
  target: string;
  /** One or more registered relation types (RFC 8288 §3.3), space-separated. */
  rel: string;
  /** In order; `true` writes the bare name (e.g. RFC 6249 `pref`). */
  params?: ReadonlyArray<readonly [name: string, value: LinkParamValue]>;
}

export type LinkResult = { ok: true; value: string } | { ok: false; reason: string };

export interface Mirror {
  url: string;
  /** RFC 6249 `pri`: 1..999999, lower is tried first. */
  priority: number;
  /** ISO 3166-1 alpha-2 country of the mirror, written lowercase. */
  geo?: string;
  /** RFC 6249 `depth`: how many directory levels above the file the mirror's path
   *  matches the original's (lets a client find sibling files there). */
  depth?: number;
}

export interface Rejected {
  url: string;
  reason: string;
}

const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const MIRROR_SCHEMES = new Set(["http:", "https:", "ftp:"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/; // RFC 9110 §5.6.2
const QDTEXT = /^[\u0020-\u007e]*$/; // printable ASCII; '"' and "\" get escaped
const REL = /^[a-z][a-z0-9.-]*( [a-z][a-z0-9.-]*)*$/; // reg-rel-type list, RFC 8288 §3.3
const COUNTRY = /^[A-Za-z]{2}$/;
const MAX_PRI = 999999;

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

function paramValue(value: LinkParamValue): string | undefined {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  }
  if (value === true) return "";
  if (TOKEN.test(value)) return value;
  if (!QDTEXT.test(value)) return undefined;
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** One link-value (RFC 8288 §3), e.g. `<https://m.example/a.iso>; rel=duplicate; pri=1`. */
export function formatLink(link: Link): LinkResult {
  const problem = uriReferenceProblem(link.target);
  if (problem) return { ok: false, reason: problem };
  if (!REL.test(link.rel)) return { ok: false, reason: "rel must be registered relation types (RFC 8288 §3.3)" };
  const rel = link.rel.includes(" ") ? `"${link.rel}"` : link.rel;
  let value = `<${link.target}>; rel=${rel}`;
  for (const [name, raw] of link.params ?? []) {
    if (!TOKEN.test(name)) return { ok: false, reason: `parameter name ${JSON.stringify(name)} is not a token` };
    // RFC 8288 §3.3: rel appears once; the one above.
    if (name.toLowerCase() === "rel") return { ok: false, reason: "rel given twice" };
    const text = paramValue(raw);
    if (text === undefined) return { ok: false, reason: `parameter ${name} has a value that cannot be written` };
    value += text === "" ? `; ${name}` : `; ${name}=${text}`;
  }
  return { ok: true, value };
}

function mirrorProblem(m: Mirror): string | undefined {
  const problem = mirrorUrlProblem(m.url);
  if (problem) return problem;
  if (!Number.isInteger(m.priority) || m.priority < 1 || m.priority > MAX_PRI) {
    return `priority must be an integer 1..${MAX_PRI}`;
  }
  if (m.geo !== undefined && !COUNTRY.test(m.geo)) return "geo must be an ISO 3166-1 alpha-2 code";
  if (m.depth !== undefined && !(Number.isSafeInteger(m.depth) && m.depth >= 0)) {
    return "depth must be a non-negative integer";
  }
  return undefined;
}

/**
 * Metalink/HTTP duplicates (RFC 6249 §3): one `<url>; rel=duplicate; pri=N[; geo=cc]
 * [; depth=N]` link-value per mirror, lowest `pri` first (ties keep their order), at most
 * `max`, comma-joined into one field value ("" when none: then send no Link field).
 * Also returns what was left out and why (invalid, repeated, or beyond `max`).
 */
export function buildDuplicateLinks(
  mirrors: readonly Mirror[],
  max = 5,
): { value: string; links: string[]; rejected: Rejected[] } {
  const limit = Number.isFinite(max) && max > 0 ? Math.floor(max) : 0;
  const rejected: Rejected[] = [];
  const valid: Mirror[] = [];
  for (const m of mirrors) {
    const problem = mirrorProblem(m);
    if (problem) rejected.push({ url: m.url, reason: problem });
    else if (valid.some((v) => v.url === m.url)) rejected.push({ url: m.url, reason: "listed twice" });
    else valid.push(m);
  }
  valid.sort((a, b) => a.priority - b.priority); // stable (ES2019)
  const links: string[] = [];
  for (const m of valid) {
    if (links.length >= limit) {
      rejected.push({ url: m.url, reason: `beyond the first ${limit}` });
      continue;
    }
    const params: Array<[string, LinkParamValue]> = [["pri", m.priority]];
    if (m.geo !== undefined) params.push(["geo", m.geo.toLowerCase()]);
    if (m.depth !== undefined) params.push(["depth", m.depth]);
    const r = formatLink({ target: m.url, rel: "duplicate", params });
    if (r.ok) links.push(r.value);
    else rejected.push({ url: m.url, reason: r.reason });
  }
  return { value: links.join(", "), links, rejected };
}
