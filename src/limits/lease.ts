import { contentLength } from "../http/content-length";
import { factsOf, sameFacts } from "../platform/answer-facts";
import { watchedBody } from "../platform/body-progress";
import type { ConcurrencyLimiter } from "./concurrency-limiter";

export interface HeldLease {
  /** `body` as the client gets it, the lease renewed while it flows and released at its end or abort. */
  track(body: ReadableStream<Uint8Array>, length: number | null, onEnd?: () => void): ReadableStream<Uint8Array>;
  release(): void;
}

export type LeaseResult = { ok: true; lease: HeldLease } | { ok: false; active: number };

/**
 * A slot in a ConcurrencyLimiter, held for as long as a response body streams: a
 * heartbeat renews the lease every third of its lifetime, and the slot is released when
 * the body ends or the client goes away. A worker that dies stops renewing, so its slot
 * expires on its own.
 *
 * The end of a body is learnt from a native pipe (no per-chunk JavaScript) into a
 * stream of our own, except for a body joined from stored chunks: that is already such a
 * stream, which workerd cannot pipe into another one, and its join says when it ends
 * (store/chunk-stream.ts), so it is passed on as it is.
 */
export async function acquireLease(
  stub: DurableObjectStub<ConcurrencyLimiter>,
  limit: number,
  ttlMs: number,
  ctx: ExecutionContext,
): Promise<LeaseResult> {
  const got = await stub.acquire(limit, ttlMs);
  if (!got.ok) return { ok: false, active: got.active };

  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    ctx.waitUntil(stub.release(got.leaseId).catch(() => {}));
  };
  const track = (body: ReadableStream<Uint8Array>, length: number | null, onEnd?: () => void) => {
    const { readable, ended } = watchEnd(body, length);
    const beat = setInterval(() => {
      ctx.waitUntil(stub.renew(got.leaseId, ttlMs).then(() => {}, () => {}));
    }, Math.max(1000, ttlMs / 3));
    ctx.waitUntil(
      ended
        .catch(() => {})
        .finally(() => {
          clearInterval(beat);
          release();
          onEnd?.();
        }),
    );
    return readable;
  };
  return { ok: true, lease: { track, release } };
}

/** `body` as it is sent on, and when it ends (or fails, or its client leaves): platform/body-progress.ts, no second native stage. */
function watchEnd(body: ReadableStream<Uint8Array>, length: number | null): { readable: ReadableStream<Uint8Array>; ended: Promise<void> } {
  const { readable, progress } = watchedBody(body, length);
  return { readable, ended: progress.ended };
}

/** Wrap a response so its body holds the lease; bodiless responses release at once. */
export function holdWhileStreaming(lease: HeldLease, res: Response, onEnd?: () => void): Response {
  if (!res.body) {
    lease.release();
    onEnd?.();
    return res;
  }
  return sameFacts(res, new Response(lease.track(res.body, contentLength(factsOf(res)), onEnd), res));
}
