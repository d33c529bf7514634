/**
 * The `<file>?mirrorlist` page: what MirrorBrain's per-file mirror list shows (file name,
 * size, last change, hashes with links to the checksum and Metalink, then every place the
 * file can be fetched from, with country and priority), as one small HTML document.
 *
 * Pure: the caller passes every fact in. Every text and attribute value is escaped
 * (& < > " '), because the path and file name are client input and Last-Modified is the
 * origin's; URLs are also checked for an http(s) scheme before they become links. The
 * page holds no script and loads nothing: its CSP (set by the caller) can forbid both.
 */
import { escapeMarkup } from "./markup";
import { fileNameFromPath } from "./metalink";

export interface MirrorListTarget {
  url: string;
  kind: "node" | "mirror";
  /** ISO 3166-1 alpha-2, when configured. */
  country?: string;
  /** 1 = first choice, the order a redirect would use (as Link pri=, RFC 6249). */
  priority: number;
}

export interface MirrorListInput {
  /** The canonical request path of the file (percent-encoded). */
  path: string;
  size: number;
  /** The origin's Last-Modified (HTTP-date), when it sent one. */
  lastModified: string | null;
  /** Hex SHA-256 of the whole file, once a node has stored all of it. */
  sha256: string | null;
  metalinkUrl: string;
  sha256Url: string;
  targets: readonly MirrorListTarget[];
  /** How many configured targets are left out (unhealthy, other prefixes, copy not known current). */
  notListed: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const COUNTRY = /^[A-Za-z]{2}$/;


/** Only http(s) and path-absolute references become links ("javascript:" never does). */
function href(url: string): string | null {
  return /^https?:\/\//i.test(url) || /^\/(?!\/)/.test(url) ? escapeMarkup(url) : null;
}

function link(url: string, text = url): string {
  const h = href(url);
  return h ? `<a href="${h}">${escapeMarkup(text)}</a>` : escapeMarkup(text);
}

/** "4.2 GiB (4,509,715,660 bytes)": the exact count for checking, a rounded one for reading. */
function sizeText(bytes: number): string {
  const exact = `${bytes.toLocaleString("en-US")} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let unit = "";
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return unit ? `${v.toFixed(1)} ${unit} (${exact})` : exact;
}

const STYLE = "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em}" +
  "table{border-collapse:collapse}td,th{padding:.25em .75em;text-align:left;border-bottom:1px solid #ddd}" +
  "code{word-break:break-all}dt{font-weight:600}dd{margin:0 0 .5em 1em}";

export function mirrorListHtml(input: MirrorListInput): string {
  const decoded = fileNameFromPath(input.path);
  const name = decoded.ok ? decoded.name : input.path;
  const sha = input.sha256 && SHA256_HEX.test(input.sha256)
    ? `<code>${input.sha256.toLowerCase()}</code> (${link(input.sha256Url, "sha256sum line")})`
    : "not known yet: it is computed once one of our nodes has stored the whole file";
  const rows = input.targets.map((t) => {
    const country = t.country && COUNTRY.test(t.country) ? t.country.toUpperCase() : "—";
    const kind = t.kind === "node" ? "our node" : "mirror";
    return `<tr><td>${t.priority}</td><td>${country}</td><td>${kind}</td><td>${link(t.url)}</td></tr>`;
  });
  const list = rows.length
    ? `<table><thead><tr><th>priority</th><th>country</th><th>kind</th><th>URL</th></tr></thead><tbody>\n${rows.join("\n")}\n</tbody></table>`
    : "<p>No place is known to hold the current version of this file right now: downloads are not sent to a mirror or node.</p>";
  const skipped = input.notListed > 0 ? `<p>${input.notListed} more configured place(s) not listed: unhealthy, not carrying this path, or not known to hold the current version.</p>` : "";
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Mirrors for ${escapeMarkup(name)}</title><style>${STYLE}</style></head><body>`,
    `<h1>Mirrors for ${escapeMarkup(name)}</h1>`,
    "<dl>",
    `<dt>Path</dt><dd><code>${escapeMarkup(input.path)}</code></dd>`,
    `<dt>Size</dt><dd>${escapeMarkup(sizeText(input.size))}</dd>`,
    `<dt>Last modified</dt><dd>${input.lastModified ? escapeMarkup(input.lastModified) : "not known"}</dd>`,
    `<dt>SHA-256</dt><dd>${sha}</dd>`,
    `<dt>Metalink</dt><dd>${link(input.metalinkUrl)}</dd>`,
    "</dl>",
    `<h2>${input.targets.length} place(s) with the current version, in the order a download is sent</h2>`,
    list,
    skipped,
    "</body></html>",
    "",
  ].join("\n");
}
