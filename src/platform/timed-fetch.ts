/**
 * The one fetch with a deadline: the origin (node and base), sendfile's origin targets and
 * the active health checks use it. Built on AbortSignal.timeout, and AbortSignal.any when
 * the caller brings its own signal, so neither timer can be forgotten or leak.
 *
 * Not used by proxy/upstream-fetch.ts: there the limit is the upstream's *silence*, a
 * timer that restarts while the client's upload moves, which no fixed deadline expresses.
 */

/** fetch's shape, so a caller can hand in a recording or a service binding's fetch. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export type TimedAnswer =
  | { ok: true; response: Response }
  /** `detail` holds the runtime's words: for logs and health reasons, never for clients (issue #11 L7). */
  | { ok: false; kind: "timeout" | "connect"; detail: string };

export interface Deadline {
  timeoutMs: number;
  /**
   * What the deadline covers: "headers" (the default) is the wait for the answer's
   * headers only, so a long download is not cut off mid-body; "exchange" is the body too
   * (a health check whose answer must arrive whole in time).
   */
  covers?: "headers" | "exchange";
  fetch?: FetchLike;
}

/**
 * `fetch(url, init)` within `deadline`. A refused connection or a missed deadline comes
 * back as a value; an abort by the caller's own `init.signal` is the caller's doing and is
 * thrown as fetch throws it.
 */
export async function timedFetch(url: string, init: RequestInit, deadline: Deadline): Promise<TimedAnswer> {
  const expiry = AbortSignal.timeout(deadline.timeoutMs);
  // For "headers", the expiry reaches the fetch through `cut` only until the answer is here.
  const cut = deadline.covers === "exchange" ? null : new AbortController();
  const onExpiry = () => cut?.abort(expiry.reason);
  if (cut) expiry.addEventListener("abort", onExpiry);
  const own = cut?.signal ?? expiry;
  const signal = init.signal ? AbortSignal.any([init.signal, own]) : own;
  try {
    const timed = { ...init, signal };
    // Not `(deadline.fetch ?? fetch)(…)`: fetch is called as the global it is.
    const response = await (deadline.fetch ? deadline.fetch(url, timed) : fetch(url, timed));
    return { ok: true, response };
  } catch (e) {
    if (init.signal?.aborted) throw e;
    if (expiry.aborted) return { ok: false, kind: "timeout", detail: `no answer within ${deadline.timeoutMs} ms` };
    return { ok: false, kind: "connect", detail: `cannot connect: ${(e as Error).message}` };
  } finally {
    if (cut) expiry.removeEventListener("abort", onExpiry);
  }
}
