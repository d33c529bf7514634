/**
 * Pure HTTP helpers for the static origin: validators in nginx's shape, Range and
 * conditional-request evaluation (RFC 9110 §13, §14) and request-path safety.
 * Kept pure so the server module only deals with sockets and files.
 */
import path from "node:path";

const TYPES = {
  html: "text/html; charset=utf-8", htm: "text/html; charset=utf-8",
  txt: "text/plain; charset=utf-8", css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8", mjs: "text/javascript; charset=utf-8",
  json: "application/json", xml: "application/xml", svg: "image/svg+xml",
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp",
  ico: "image/x-icon", pdf: "application/pdf", wasm: "application/wasm",
  zip: "application/zip", gz: "application/gzip", tgz: "application/gzip",
  tar: "application/x-tar", xz: "application/x-xz", bz2: "application/x-bzip2", zst: "application/zstd",
  iso: "application/x-iso9660-image", deb: "application/vnd.debian.binary-package",
  rpm: "application/x-rpm", mp4: "video/mp4", webm: "video/webm", mp3: "audio/mpeg",
};

/** Content-Type by the last extension (so .tar.gz is application/gzip, like nginx). */
export function contentTypeFor(file) {
  const ext = path.extname(file).slice(1).toLowerCase();
  return TYPES[ext] ?? "application/octet-stream";
}

/** Strong ETag exactly as nginx builds it: "<mtime seconds hex>-<size hex>". */
export function etagFor(st) {
  return `"${Math.floor(st.mtimeMs / 1000).toString(16)}-${st.size.toString(16)}"`;
}

/** IMF-fixdate of the mtime, truncated to whole seconds (HTTP dates have no fractions). */
export function lastModifiedFor(st) {
  return new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString();
}

/** Opaque part of an entity tag, or undefined for "*"; weak prefix dropped (weak comparison). */
function entityTags(headerValue) {
  return headerValue.match(/\*|(?:W\/)?"[^"]*"/g) ?? [];
}

/**
 * If-None-Match uses weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
 * @param {string} header
 * @param {string|undefined} etag current strong ETag, undefined when validators are hidden
 */
export function noneMatchHits(header, etag) {
  return entityTags(header).some((t) => t === "*" || (etag !== undefined && t.replace(/^W\//, "") === etag));
}

/**
 * If-Modified-Since: true when the file was not modified after the given date.
 * An unparseable date is ignored (RFC 9110 §13.1.3), i.e. treated as modified.
 */
export function notModifiedSince(header, st) {
  const since = Date.parse(header);
  if (Number.isNaN(since)) return false;
  return Math.floor(st.mtimeMs / 1000) * 1000 <= since;
}

/**
 * If-Range (RFC 9110 §13.1.5): honour the Range only when the validator still matches.
 * Entity tags need a strong match; a weak tag never matches. A date must equal
 * Last-Modified exactly.
 * @param {string} header
 * @param {{ etag?: string, lastModified?: string }} v current validators (absent when hidden)
 */
export function ifRangeAllows(header, v) {
  const h = header.trim();
  if (h.startsWith("W/")) return false;
  if (h.startsWith('"')) return v.etag !== undefined && h === v.etag;
  if (v.lastModified === undefined) return false;
  const date = Date.parse(h);
  return !Number.isNaN(date) && date === Date.parse(v.lastModified);
}

/**
 * Evaluate a Range header against a representation of `size` bytes.
 * Returns null to serve the whole thing (no/invalid Range, or several ranges: this
 * origin deliberately never sends multipart/byteranges, which RFC 9110 §14.2 allows),
 * "unsatisfiable" for 416, or the inclusive byte span.
 * @param {string|undefined} header
 * @param {number} size
 * @returns {null | "unsatisfiable" | { start: number, end: number }}
 */
export function parseRange(header, size) {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null; // syntax we do not understand, or a list of ranges: ignore it
  const [, a, b] = m;
  if (a === "" && b === "") return null;
  if (a === "") {
    const n = Number(b);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const last = b === "" ? Infinity : Number(b);
  if (last < start) return null; // invalid range-spec: the whole header is ignored
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(last, size - 1) };
}

/**
 * Map a request target to a safe, normalised path below root.
 * Rejects (400) anything that could escape root or be read differently by other
 * software: undecodable escapes, NUL, backslashes and ".." segments (also encoded ones).
 * @param {string} target request target (origin-form or absolute-form), query ignored
 * @param {string} root absolute root directory
 * @returns {{ ok: true, norm: string, abs: string } | { ok: false, norm: string, reason: string }}
 */
export function resolveSafePath(target, root) {
  let raw = target;
  if (!raw.startsWith("/")) {
    try { raw = new URL(raw).pathname; } catch { return { ok: false, norm: target, reason: "bad request target" }; }
  }
  raw = raw.split("?")[0].split("#")[0];
  let decoded;
  try { decoded = decodeURIComponent(raw); } catch { return { ok: false, norm: raw, reason: "bad percent-encoding" }; }
  if (decoded.includes("\0")) return { ok: false, norm: raw, reason: "NUL in path" };
  if (decoded.includes("\\")) return { ok: false, norm: raw, reason: "backslash in path" };
  const segments = decoded.split("/");
  if (segments.includes("..")) return { ok: false, norm: raw, reason: "path traversal" };
  const kept = segments.filter((s) => s !== "" && s !== ".");
  // Keep a trailing slash: "/file.txt/" must not be served as "/file.txt".
  const norm = "/" + kept.join("/") + (kept.length > 0 && decoded.endsWith("/") ? "/" : "");
  const abs = path.join(root, ...kept);
  if (abs !== root && !abs.startsWith(root + path.sep)) return { ok: false, norm, reason: "outside root" };
  return { ok: true, norm, abs };
}
