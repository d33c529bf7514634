/**
 * A sendfile target on the origin (root "origin:<path prefix>").
 *
 * The client's Range and conditional fields are passed to the origin, and its answer
 * (200, 206 incl. multipart, 304, 412, 416) is streamed back: the origin is a static file
 * server that already answers them (RFC 9110 §13, §14), as nginx's X-Accel-Redirect to a
 * proxy_pass location does. Fetching the whole file to cut ranges here would move every
 * byte twice; a HEAD first to reuse respondFromCopy would cost a round trip per request.
 *
 * Only the configured ORIGIN_URL is ever asked (the URL is built and checked by
 * root.ts), redirects are not followed, and only representation fields of the origin's
 * answer are kept: a file store's cookies or server banners are not the client's business.
 */
import { plain } from "../../http/plain";
import { originFailure, requestId } from "../../http/request-id";
import { timedFetch, type FetchLike } from "../../platform/timed-fetch";
import { log } from "../../platform/log";

/** Client fields the origin needs to answer ranges and conditions itself. */
const FORWARDED = ["range", "if-range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"];

/** Fields of the origin's answer that describe the file. */
const KEPT = [
  "content-type", "content-length", "content-range", "content-encoding", "content-language",
  "content-disposition", "etag", "last-modified", "accept-ranges", "cache-control", "expires",
  "vary", "repr-digest", "content-digest",
];

/** Statuses that are the origin's answer about the file itself, passed on as they are. */
const PASSED = new Set([200, 206, 304, 412, 416]);

export interface OriginFileRequest {
  url: string;
  timeoutMs: number;
  cacheStatus: (fwdStatus?: number) => string;
  /** Absent: the global fetch (timedFetch calls it as the global it is). */
  fetch?: FetchLike | undefined;
}

/** `req` is GET or HEAD. */
export async function serveOriginFile(o: OriginFileRequest, req: Request): Promise<Response> {
  const headers = new Headers({
    // The bytes as stored: we compress ourselves, and workerd would otherwise decode.
    "accept-encoding": "identity",
    "user-agent": "offload-base-sendfile",
  });
  for (const name of FORWARDED) {
    const v = req.headers.get(name);
    if (v !== null) headers.set(name, v);
  }
  // Only the wait for headers is timed; a long body is not cut off.
  const answer = await timedFetch(o.url, { method: req.method, headers, redirect: "manual" }, { timeoutMs: o.timeoutMs, fetch: o.fetch });
  if (!answer.ok) {
    // The runtime's message (and the origin's address in it) only in the log (issue #11 L7).
    const id = requestId(req.headers);
    log.error("sendfile.origin-failed", { requestId: id, kind: answer.kind, detail: answer.detail });
    return originFailure(answer.kind, id, { "cache-status": o.cacheStatus() });
  }
  const res = answer.response;

  const status = o.cacheStatus(res.status);
  if (!PASSED.has(res.status)) {
    res.body?.cancel().catch(() => {});
    if (res.status === 404 || res.status === 410) return plain(res.status, "not found", { "cache-status": status });
    const what = res.status >= 300 && res.status < 400 ? "a redirect (not followed)" : `status ${res.status}`;
    return plain(502, `origin answered the sendfile target with ${what}`, { "cache-status": status });
  }
  const out = new Headers({ "cache-status": status });
  for (const name of KEPT) {
    const v = res.headers.get(name);
    if (v !== null) out.set(name, v);
  }
  const empty = req.method === "HEAD" || res.status === 304;
  if (empty) res.body?.cancel().catch(() => {});
  return new Response(empty ? null : res.body, { status: res.status, headers: out });
}
