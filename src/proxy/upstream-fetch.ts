/**
 * One request to one upstream (a proxy route's backend, or the origin on the base's own
 * pass-through), with the client's request body streamed to it, and the two timers that
 * decide whose fault a silence is (issue #11 H1):
 * - `timeoutMs` limits the upstream's silence only: it runs while the upstream is being
 *   waited for (connecting, taking the next chunk, answering once the whole body is sent);
 * - `clientBodyTimeoutMs` limits the client's silence between two chunks of its upload
 *   (nginx client_body_timeout), which answers 408 (RFC 9110 §15.5.9); a broken-off,
 *   shorter or longer body than announced answers 400 (body.ts watchUpload).
 * Whatever the client does wrong comes back as `kind: "client"` and must never be
 * counted or logged as the upstream's failure.
 */
import { contentLength } from "../http/content-length";
import { watchUpload, type ClientFault } from "./body";

export type UpstreamAnswer =
  | { ok: true; res: Response }
  | { ok: false; kind: "timeout" | "refused"; detail: string }
  | ({ ok: false; kind: "client" } & ClientFault);

export interface UpstreamLimits {
  /** Longest silence of the upstream (connect, take a chunk, answer after the body). */
  timeoutMs: number;
  /** Longest silence of the client between two chunks of its upload. */
  clientBodyTimeoutMs: number;
}

/** Whether the request has a body to send (a Content-Length of 0 is none). */
export function sendsBody(req: Request): boolean {
  return req.body !== null && contentLength(req.headers) !== 0;
}

/**
 * `req`'s method and body to `url` with `headers` (already under the forwarding policy),
 * never following redirects. Once the response headers are here nothing aborts any more:
 * the signal would cut the response body off mid-stream.
 */
export async function fetchUpstream(url: string, req: Request, headers: Headers, limits: UpstreamLimits & { ctx: ExecutionContext }): Promise<UpstreamAnswer> {
  const hasBody = sendsBody(req);
  // Without a usable Content-Length the body goes out chunked: a stray one must not contradict it.
  if (hasBody && contentLength(req.headers) === null) headers.delete("content-length");
  // Not AbortSignal.timeout: the limit is on the upstream's silence only, and that signal
  // would also cut a long response body off mid-stream.
  const controller = new AbortController();
  const signal = controller.signal;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let answered = false;
  const waiting = (who: "client" | "backend") => {
    if (answered) return;
    if (timer !== null) clearTimeout(timer);
    timer = who === "backend" ? setTimeout(() => controller.abort(), limits.timeoutMs) : null;
  };
  waiting("backend");
  const upload =
    hasBody && req.body
      ? watchUpload(req.body, { length: contentLength(req.headers), clientTimeoutMs: limits.clientBodyTimeoutMs, waiting, onClientFault: () => void (answered || controller.abort()) }, limits.ctx)
      : null;
  // A POST with Content-Length: 0 still says so upstream (an empty body, not none).
  const emptyBody = !hasBody && req.method !== "GET" && req.method !== "HEAD" && req.body !== null;
  try {
    const res = await fetch(url, { method: req.method, headers, body: upload ? upload.body : emptyBody ? "" : null, redirect: "manual", signal });
    answered = true;
    return { ok: true, res };
  } catch (e) {
    const fault = upload?.clientFault();
    if (fault) return { ok: false, kind: "client", ...fault };
    if (signal.aborted) return { ok: false, kind: "timeout", detail: `no answer within ${limits.timeoutMs} ms` };
    return { ok: false, kind: "refused", detail: `cannot connect: ${(e as Error).message}` };
  } finally {
    answered = true;
    if (timer !== null) clearTimeout(timer);
  }
}
