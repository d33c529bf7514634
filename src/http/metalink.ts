/**
 * Metalink 4 documents (RFC 5854) for one file, and the Accept check (RFC 9110 §12.5.1)
 * that decides whether a client asked for one.
 *
 * Output, in the order of RFC 5854 §1.1's example:
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <metalink xmlns="urn:ietf:params:xml:ns:metalink">
 *     <generator>…</generator>                         §4.2.3, optional
 *     <published>…</published>                         §4.2.11, optional
 *     <updated>…</updated>                             §4.2.15, optional
 *     <file name="…">                                  §4.1.2, name §4.1.2.1
 *       <size>…</size>                                 §4.2.14
 *       <hash type="sha-256">…</hash>                  §4.2.4, optional
 *       <url location="de" priority="1">…</url>        §4.2.16, one per usable mirror
 *     </file>
 *   </metalink>
 *
 * Every text and attribute value is escaped (& < > " '), and characters XML 1.0 cannot
 * carry, or that have no business in a file name (C0/C1 controls, DEL, U+FFFE/U+FFFF,
 * unpaired surrogates), are refused instead. Dates are RFC 3339 in UTC (RFC 5854 §3.1).
 *
 * Known client quirk: aria2 1.36 built with libxml2 (Debian's) saves a name holding "&"
 * as "&#38;" however the "&" is written (&amp;, &#38;, &#x26;): its SAX setup keeps
 * "&" escaped in attribute values. The download and hash check are unaffected, and an
 * XML parser such as expat reads the name correctly, so the document stays standard.
 */

import { escapeMarkup } from "./markup";
import { mirrorUrlProblem, type Rejected } from "./link";
import { splitOutsideQuotes } from "./split-outside-quotes";

export const METALINK_TYPE = "application/metalink4+xml";
export const METALINK_NS = "urn:ietf:params:xml:ns:metalink";

export interface MetalinkUrl {
  url: string;
  /** RFC 5854 §4.2.16.2: 1..999999, 1 is the highest priority. */
  priority: number;
  /** RFC 5854 §4.2.16.1: ISO 3166-1 alpha-2 country of the server; written lowercase. */
  location?: string;
}

export interface MetalinkInput {
  /** The URL path of the file (percent-encoded, as on the wire) or its last segment. */
  name: string;
  /** Bytes. */
  size: number;
  /** SHA-256 of the whole file, hex. */
  sha256Hex?: string;
  updated?: Date;
  published?: Date;
  generator?: string;
  urls: readonly MetalinkUrl[];
}

export type MetalinkResult =
  | { ok: true; xml: string; name: string; rejected: Rejected[] }
  | { ok: false; reason: string };

export type NameResult = { ok: true; name: string } | { ok: false; reason: string };

const FORBIDDEN =
  /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const SHA256_HEX = /^[0-9A-Fa-f]{64}$/;
const COUNTRY = /^[A-Za-z]{2}$/;
const MAX_PRIORITY = 999999;


/** RFC 3339 date-time in UTC, whole seconds (RFC 5854 §3.1). */
function dateTime(d: Date): string | undefined {
  const t = d.getTime();
  if (!Number.isFinite(t) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999) return undefined;
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The file name for a URL path: its last segment, percent-decoded as UTF-8. Refused when
 * empty, "." or "..", when it decodes to "/" or "\" (RFC 5854 §4.1.2.1: no directory
 * information here), or holds a character listed in the module comment.
 */
export function fileNameFromPath(path: string): NameResult {
  const segment = path.slice(path.lastIndexOf("/") + 1);
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    return { ok: false, reason: "file name is not valid percent-encoded UTF-8" };
  }
  if (name === "" || name === "." || name === "..") return { ok: false, reason: "path does not end in a file name" };
  if (/[/\\]/.test(name)) return { ok: false, reason: "file name contains a slash or backslash" };
  if (FORBIDDEN.test(name)) return { ok: false, reason: "file name contains a control or non-XML character" };
  return { ok: true, name };
}

function urlProblem(u: MetalinkUrl): string | undefined {
  const problem = mirrorUrlProblem(u.url);
  if (problem) return problem;
  if (!Number.isInteger(u.priority) || u.priority < 1 || u.priority > MAX_PRIORITY) {
    return `priority must be an integer 1..${MAX_PRIORITY} (RFC 5854 §4.2.16.2)`;
  }
  if (u.location !== undefined && !COUNTRY.test(u.location)) {
    return "location must be an ISO 3166-1 alpha-2 code (RFC 5854 §4.2.16.1)";
  }
  return undefined;
}

/**
 * The document, plus the URLs left out and why. Fails when the name, size, hash, dates
 * or generator cannot be written, or when no URL is usable (RFC 5854 §4.1.2: a file
 * needs at least one url or metaurl). URLs are listed by priority, ties in input order.
 */
export function buildMetalink4(input: MetalinkInput): MetalinkResult {
  const name = fileNameFromPath(input.name);
  if (!name.ok) return name;
  if (!Number.isSafeInteger(input.size) || input.size < 0) {
    return { ok: false, reason: "size must be a non-negative integer" };
  }
  if (input.sha256Hex !== undefined && !SHA256_HEX.test(input.sha256Hex)) {
    return { ok: false, reason: "sha256Hex must be 64 hex digits" };
  }
  const head: string[] = [];
  if (input.generator !== undefined) {
    if (input.generator === "" || FORBIDDEN.test(input.generator)) {
      return { ok: false, reason: "generator is empty or has a control or non-XML character" };
    }
    head.push(`  <generator>${escapeMarkup(input.generator)}</generator>`);
  }
  for (const [element, date] of [["published", input.published], ["updated", input.updated]] as const) {
    if (date === undefined) continue;
    const text = dateTime(date);
    if (text === undefined) return { ok: false, reason: `${element} is not a valid date in years 0..9999` };
    head.push(`  <${element}>${text}</${element}>`);
  }

  const rejected: Rejected[] = [];
  const usable: MetalinkUrl[] = [];
  for (const u of input.urls) {
    const problem = urlProblem(u);
    if (problem) rejected.push({ url: u.url, reason: problem });
    else if (usable.some((v) => v.url === u.url)) rejected.push({ url: u.url, reason: "listed twice" });
    else usable.push(u);
  }
  if (usable.length === 0) {
    return { ok: false, reason: "no usable URL (RFC 5854 §4.1.2 needs at least one)" };
  }
  usable.sort((a, b) => a.priority - b.priority); // stable (ES2019)

  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<metalink xmlns="${METALINK_NS}">`,
    ...head,
    `  <file name="${escapeMarkup(name.name)}">`,
    `    <size>${input.size}</size>`,
  ];
  if (input.sha256Hex !== undefined) lines.push(`    <hash type="sha-256">${input.sha256Hex.toLowerCase()}</hash>`);
  for (const u of usable) {
    const location = u.location === undefined ? "" : ` location="${u.location.toLowerCase()}"`;
    lines.push(`    <url${location} priority="${u.priority}">${escapeMarkup(u.url)}</url>`);
  }
  lines.push("  </file>", "</metalink>", "");
  return { ok: true, xml: lines.join("\n"), name: name.name, rejected };
}

// ---- Accept (RFC 9110 §12.5.1) ----

export interface MediaRange {
  /** Lowercase; "*" for a wildcard. */
  type: string;
  subtype: string;
  /** Weight 0..1 (RFC 9110 §12.4.2); 1 when absent. */
  q: number;
  /** Parameters other than q, names lowercase, values unquoted. */
  params: Array<[string, string]>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/; // RFC 9110 §5.6.2
const QVALUE = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/; // RFC 9110 §12.4.2

function parseParam(text: string): [string, string] | undefined {
  const eq = text.indexOf("=");
  if (eq < 0) return undefined;
  const name = text.slice(0, eq).trim().toLowerCase();
  const raw = text.slice(eq + 1).trim();
  if (!TOKEN.test(name)) return undefined;
  if (TOKEN.test(raw)) return [name, raw];
  const m = /^"((?:[^"\\]|\\.)*)"$/.exec(raw);
  return m ? [name, (m[1] ?? "").replace(/\\(.)/g, "$1")] : undefined;
}

function parseMediaRange(element: string): MediaRange | undefined {
  const [range = "", ...rawParams] = splitOutsideQuotes(element, ";");
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(range.trim());
  if (!m?.[1] || !m[2] || !TOKEN.test(m[1]) || !TOKEN.test(m[2])) return undefined;
  const type = m[1].toLowerCase();
  const subtype = m[2].toLowerCase();
  if (type === "*" && subtype !== "*") return undefined;
  let q = 1;
  let weighted = false;
  const params: Array<[string, string]> = [];
  for (const rawParam of rawParams) {
    if (rawParam.trim() === "") continue; // tolerate "a/b;" like most servers
    const p = parseParam(rawParam);
    if (!p) return undefined;
    if (p[0] === "q") {
      if (weighted || !QVALUE.test(p[1])) return undefined;
      weighted = true;
      q = Number(p[1]);
    } else params.push(p);
  }
  return { type, subtype, q, params };
}

/**
 * Accept's media ranges, in order, and the list elements that could not be parsed (RFC
 * 9110 §5.6.1: empty elements are skipped, not rejected). A range with a bad q value is
 * rejected as a whole.
 */
export function parseAccept(value: string): { ranges: MediaRange[]; rejected: string[] } {
  const ranges: MediaRange[] = [];
  const rejected: string[] = [];
  for (const element of splitOutsideQuotes(value, ",")) {
    if (element.trim() === "") continue;
    const r = parseMediaRange(element);
    if (r) ranges.push(r);
    else rejected.push(element.trim());
  }
  return { ranges, rejected };
}

/**
 * True when Accept names application/metalink4+xml itself with q > 0. Wildcard ranges
 * (the any-type range, "application/*") do not count: a browser accepting anything wants
 * the file, not a description of it. When the type is listed more than once, a q=0 wins.
 */
export function wantsMetalink(accept: string | null): boolean {
  if (accept === null) return false;
  const [type, subtype] = METALINK_TYPE.split("/");
  const explicit = parseAccept(accept).ranges.filter((r) => r.type === type && r.subtype === subtype);
  return explicit.length > 0 && explicit.every((r) => r.q > 0);
}
