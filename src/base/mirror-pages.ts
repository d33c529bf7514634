/**
 * The base's per-file pages (issue #14 part 5), for files it offloads: `<file>?mirrorlist`
 * (HTML), `<file>.sha256` / `<file>?sha256` (sha256sum line) and `<file>.meta4` (Metalink,
 * answered in app.ts). Which page a request asks for is decided here; the documents
 * themselves are built by the pure helpers in http/.
 *
 * For a file the base does not offload, a path form (`.meta4`, `.sha256`) is an ordinary
 * name and goes to the origin, which answers as it likes; a query form gets a plain 404
 * saying why (the base serves that file itself, so it has no list of places to offer).
 */
import type { BaseConfig } from "../config/base-config";
import type { TargetSpec } from "../config/targets";
import { pageInQuery, sha256sumLine } from "../http/mirror-pages";
import { mirrorListHtml } from "../http/mirrorlist-html";
import { plain, quoted } from "../http/plain";
import { objectInfo, type ObjectInfo } from "./object-info";

export type FilePage = "meta4" | "sha256" | "mirrorlist";

export interface PageAsk {
  /** The file the request is about (the path without a page suffix). */
  file: string;
  page: FilePage | null;
  /** The file's own query: the raw one, or what is left once a page flag is taken out. */
  query: string;
  /** Asked by a query flag (ours whatever the origin holds) rather than a path suffix. */
  byQuery: boolean;
}

const SUFFIXES: readonly ["meta4" | "sha256", string][] = [["meta4", ".meta4"], ["sha256", ".sha256"]];

/** The page a GET or HEAD asks for, or a 400 naming the bad query. Never throws. */
export function askedPage(method: string, path: string, query: string): PageAsk | Response {
  const none: PageAsk = { file: path, page: null, query, byQuery: false };
  if (method !== "GET" && method !== "HEAD") return none;
  if (query !== "") {
    const q = pageInQuery(query);
    if (q.page === "bad") return plain(400, `bad query: ${q.reason}`);
    if (q.page !== null) return { file: path, page: q.page, query: q.query, byQuery: true };
  }
  for (const [page, suffix] of SUFFIXES) {
    if (path.endsWith(suffix) && path.length > suffix.length + 1) return { file: path.slice(0, -suffix.length), page, query, byQuery: false };
  }
  return none;
}

/** A query-form page for a file the base does not offload: nothing to list, said plainly. */
export function notOffloadedPage(ask: PageAsk, reason: string): Response {
  return plain(404, `no ${ask.page} page for ${quoted(ask.file)}: the site serves this file itself (${reason}), not from mirrors`);
}

/**
 * Whether the origin publishes its own `<file>.sha256`: that file is then served as it
 * is, never shadowed by ours (it may hold more lines, or a signed list). One HEAD, then
 * remembered with the other object facts for INFO_CACHE_SECONDS (object-info.ts).
 */
export async function originHasOwn(config: BaseConfig, env: Env, path: string): Promise<boolean> {
  const info = await objectInfo(config, env, path);
  return info?.status === 200;
}

/**
 * Until the SHA-256 is known, when the digest is asked for. It becomes known once a node has
 * stored the whole file (the fill hashes it on the way, store/); the base does not read
 * whole files itself. 503 + Retry-After rather than 404: the answer is temporary, and a
 * 404 is heuristically cacheable (RFC 9110 §15.1) where nobody should keep this one.
 */
const SHA256_RETRY_SECONDS = 60;

/** `<file>.sha256` and `<file>?sha256`: the sha256sum line, or a plain reason with Retry-After. */
export function sha256Answer(path: string, info: ObjectInfo, method: string): Response {
  const headers = { "cache-control": "no-store" };
  if (!info.sha256) {
    return plain(503, `SHA-256 of ${quoted(path)} not known yet: it is computed when one of our nodes has stored the whole file; try again later`, { ...headers, "retry-after": String(SHA256_RETRY_SECONDS) });
  }
  const line = sha256sumLine(info.sha256, path);
  if (!line.ok) return plain(404, `no sha256sum line for ${quoted(path)}: ${line.reason}`, headers);
  return new Response(method === "HEAD" ? null : line.line, { headers: { ...headers, "content-type": "text/plain; charset=utf-8" } });
}

/**
 * The admin's policy (admin/routes.ts, hono/secure-headers): no script, no loads, inline
 * styles only, never framed, no form targets. Static here: this answer is built outside
 * Hono's middleware chain, in the base's catch-all.
 */
const PAGE_SECURITY: Record<string, string> = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

export interface MirrorListFacts {
  path: string;
  info: ObjectInfo;
  /** The current targets, in the redirect's order (after the freshness filter). */
  ranked: readonly TargetSpec[];
  urlOf: (t: TargetSpec) => string;
  configured: number;
  publicOrigin: string;
  method: string;
}

/** `<file>?mirrorlist`: per client (its order, its tokens), so no cache may keep it. */
export function mirrorListAnswer(f: MirrorListFacts): Response {
  const html = mirrorListHtml({
    path: f.path,
    size: f.info.size ?? 0,
    lastModified: f.info.lastModified,
    sha256: f.info.sha256,
    metalinkUrl: `${f.publicOrigin}${f.path}.meta4`,
    sha256Url: `${f.publicOrigin}${f.path}.sha256`,
    targets: f.ranked.map((t, i) => ({ url: f.urlOf(t), kind: t.kind, priority: i + 1, ...(t.location?.country ? { country: t.location.country } : {}) })),
    notListed: Math.max(0, f.configured - f.ranked.length),
  });
  // RFC 9111 §5.2.2.5/§5.2.2.7: the order and the signed node URLs are this client's.
  const headers = { ...PAGE_SECURITY, "content-type": "text/html; charset=utf-8", "cache-control": "private, no-store" };
  return new Response(f.method === "HEAD" ? null : html, { headers });
}
