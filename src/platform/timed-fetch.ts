/**
 * The one fetch with a deadline: the origin (node and base), sendfile's origin targets and
 * the active health checks and the mirror checks use it. One timer per call, cleared as soon
 * as what it covers has arrived; AbortSignal.any when the caller brings its own signal.
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
  // A timer we clear, not AbortSignal.timeout: that one stays armed until it fires, and
  // workerd allows 10,000 armed timers per isolate, which a Durable Object's mirror scan
  // (thousands of HEADs within one timeout span) reached.
  const expiry = new AbortController();
  const timer = setTimeout(() => expiry.abort(new DOMException(`no answer within ${deadline.timeoutMs} ms`, "TimeoutError")), deadline.timeoutMs);
  let keep = false;
  const signal = init.signal ? AbortSignal.any([init.signal, expiry.signal]) : expiry.signal;
  try {
    const timed = { ...init, signal };
    // Not `(deadline.fetch ?? fetch)(…)`: fetch is called as the global it is.
    const response = await (deadline.fetch ? deadline.fetch(url, timed) : fetch(url, timed));
    // "exchange" covers a body still to come (none after HEAD, RFC 9110 §9.3.2): the timer stays armed until it fires.
    keep = deadline.covers === "exchange" && response.body !== null && init.method !== "HEAD";
    return { ok: true, response };
  } catch (e) {
    if (init.signal?.aborted) throw e;
    if (expiry.signal.aborted) return { ok: false, kind: "timeout", detail: `no answer within ${deadline.timeoutMs} ms` };
    return { ok: false, kind: "connect", detail: `cannot connect: ${(e as Error).message}` };
  } finally {
    if (!keep) clearTimeout(timer);
  }
}
