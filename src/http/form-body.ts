/**
 * Request bodies of small HTML forms and JSON calls, checked strictly: every parser
 * here returns what it accepted or why it refused, and never throws, whatever the
 * bytes. (A throwing parser on client input is a 500 waiting to happen: issue #11 L6.)
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface MediaType {
  /** "type/subtype", lower-cased (RFC 9110 §8.3.1: case-insensitive). */
  type: string;
  /** Parameter names lower-cased; values as sent, quotes removed (RFC 9110 §5.6.6). */
  params: Map<string, string>;
}

// RFC 9110 §5.6.2 token, §5.6.4 quoted-string (qdtext or quoted-pair), §5.6.3 OWS.
// Fixed patterns, none built from input; each alternative starts with a distinct character, so matching is linear.
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const HEAD = new RegExp(`^[ \\t]*(${TOKEN})/(${TOKEN})[ \\t]*`);
const PARAM = new RegExp(`;[ \\t]*(${TOKEN})=(?:(${TOKEN})|"((?:[\\t !#-\\[\\]-~\\x80-\\xff]|\\\\[\\t -~\\x80-\\xff])*)")[ \\t]*`, "y");

/** A Content-Type value (RFC 9110 §8.3.1), or why it is not one. */
export function parseMediaType(value: string | null): Parsed<MediaType> {
  if (value === null || value.trim() === "") return { ok: false, reason: "no Content-Type" };
  const head = HEAD.exec(value);
  if (!head) return { ok: false, reason: "Content-Type is not a media type" };
  const params = new Map<string, string>();
  PARAM.lastIndex = head[0].length;
  while (PARAM.lastIndex < value.length) {
    const start = PARAM.lastIndex;
    const m = PARAM.exec(value);
    if (!m) return { ok: false, reason: `Content-Type has a malformed parameter at character ${start}` };
    const name = m[1]!.toLowerCase();
    if (params.has(name)) return { ok: false, reason: `Content-Type names the parameter ${name} twice` };
    params.set(name, m[2] ?? m[3]!.replace(/\\(.)/g, "$1"));
  }
  return { ok: true, value: { type: `${head[1]}/${head[2]}`.toLowerCase(), params } };
}

/** RFC 2046 §5.1.1: 1 to 70 bchars, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

export function boundaryProblem(boundary: string | undefined): string | null {
  if (boundary === undefined) return "multipart/form-data needs a boundary parameter (RFC 2046 §5.1.1)";
  return BOUNDARY.test(boundary) ? null : "the multipart boundary is not 1 to 70 allowed characters (RFC 2046 §5.1.1)";
}

/**
 * The framing of a multipart body (RFC 2046 §5.1.1, RFC 7578 §4.1), before a platform
 * parser sees it: the first delimiter opens the body (after an optional preamble) and
 * the close delimiter is there, so a body cut short or written with another boundary is
 * refused by name instead of being read as an empty form. `text` is the body decoded
 * one byte per character (latin1), so byte offsets are kept.
 */
export function multipartFramingProblem(text: string, boundary: string): string | null {
  const open = `--${boundary}`;
  if (!(text.startsWith(`${open}\r\n`) || text.includes(`\r\n${open}\r\n`))) return "the multipart body does not start with its boundary";
  if (!text.includes(`\r\n${open}--`)) return "the multipart body ends before its closing boundary (truncated?)";
  return null;
}

/**
 * application/x-www-form-urlencoded (WHATWG URL §5.1), strictly: the WHATWG parser keeps
 * a broken escape such as "%E0%A4%A" as literal text; a form a browser sent never
 * contains one, so it is refused. Fields given twice are refused too: which of two
 * `csrf` values counts must never depend on the parser.
 */
export function parseUrlencoded(body: string): Parsed<Map<string, string>> {
  const fields = new Map<string, string>();
  for (const pair of body.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq < 0 ? "" : pair.slice(eq + 1));
    if (name === null || value === null) return { ok: false, reason: "the form body has a malformed percent-escape" };
    const dup = duplicate(fields, name, value);
    if (dup) return dup;
  }
  return { ok: true, value: fields };
}

/** Adds a field, or says it was given twice. */
export function duplicate(fields: Map<string, string>, name: string, value: string): { ok: false; reason: string } | null {
  if (fields.has(name)) return { ok: false, reason: `the form gives the field ${JSON.stringify(name.slice(0, 40))} twice` };
  fields.set(name, value);
  return null;
}

function decodeComponent(s: string): string | null {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return null;
  }
}

/** A JSON object from UTF-8 bytes (RFC 8259 §8.1), or why not. */
export function parseJsonObject(bytes: Uint8Array): Parsed<Record<string, unknown>> {
  const text = utf8Text(bytes);
  if (text === null) return { ok: false, reason: "the JSON body is not UTF-8" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "the body is not valid JSON" };
  }
  return typeof value === "object" && value !== null && !Array.isArray(value) ? { ok: true, value: value as Record<string, unknown> } : { ok: false, reason: "body must be a JSON object" };
}

/** UTF-8 text (RFC 3629), or null when the bytes are not UTF-8. */
export function utf8Text(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}
