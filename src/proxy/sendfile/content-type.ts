/**
 * Content-Type of a stored file without one (nginx's mime.types, the common part; the
 * same table as the test origin's scripts/origin/http-rules.mjs plus web fonts and text
 * formats), and which types are worth compressing.
 */

const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8", htm: "text/html; charset=utf-8",
  txt: "text/plain; charset=utf-8", css: "text/css; charset=utf-8", csv: "text/csv; charset=utf-8",
  md: "text/markdown; charset=utf-8", js: "text/javascript; charset=utf-8", mjs: "text/javascript; charset=utf-8",
  json: "application/json", map: "application/json", xml: "application/xml", rss: "application/rss+xml",
  atom: "application/atom+xml", webmanifest: "application/manifest+json", wasm: "application/wasm",
  svg: "image/svg+xml", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif",
  webp: "image/webp", avif: "image/avif", ico: "image/x-icon",
  woff: "font/woff", woff2: "font/woff2", ttf: "font/ttf", otf: "font/otf",
  pdf: "application/pdf", zip: "application/zip", gz: "application/gzip", tgz: "application/gzip",
  tar: "application/x-tar", xz: "application/x-xz", bz2: "application/x-bzip2", zst: "application/zstd",
  iso: "application/x-iso9660-image", deb: "application/vnd.debian.binary-package", rpm: "application/x-rpm",
  mp4: "video/mp4", webm: "video/webm", mp3: "audio/mpeg", ogg: "audio/ogg",
};

/** By the last extension of the last segment (so .tar.gz is application/gzip, like nginx). */
export function contentTypeByExtension(name: string): string {
  const file = name.slice(name.lastIndexOf("/") + 1);
  const dot = file.lastIndexOf(".");
  const ext = dot > 0 ? file.slice(dot + 1).toLowerCase() : "";
  return TYPES[ext] ?? "application/octet-stream";
}

const COMPRESSIBLE = new Set([
  "application/json", "application/javascript", "application/x-javascript", "application/ecmascript",
  "application/xml", "application/wasm", "application/x-ndjson",
  "image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "image/bmp",
  "font/ttf", "font/otf", "application/vnd.ms-fontobject",
]);

/**
 * Text and other formats that shrink under gzip: text/*, the listed application types,
 * any `+json` / `+xml` structured syntax suffix (RFC 6839). Images, audio, video, fonts
 * in woff/woff2 and archives are already compressed.
 */
export function isCompressibleType(contentType: string | null): boolean {
  if (!contentType) return false;
  const type = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  return type.startsWith("text/") || COMPRESSIBLE.has(type) || /^application\/[^/]+\+(json|xml)$/.test(type);
}
