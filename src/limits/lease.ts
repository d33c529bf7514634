import type { ConcurrencyLimiter } from "./concurrency-limiter";

export interface HeldLease {
  /** Pipe `body` through natively, renewing the lease while it flows; release at its end or abort. */
  track(body: ReadableStream<Uint8Array>, length: number | null, onEnd?: () => void): ReadableStream<Uint8Array>;
  release(): void;
}

export type LeaseResult = { ok: true; lease: HeldLease } | { ok: false; active: number };

/**
 * A slot in a ConcurrencyLimiter, held for as long as a response body streams: the pipe
 * is native (no per-chunk JavaScript), a heartbeat renews the lease every third of its
 * lifetime, and the slot is released when the body ends or the client goes away. A
 * worker that dies stops renewing, so its slot expires on its own.
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
    const pair = length === null ? new IdentityTransformStream() : new FixedLengthStream(length);
    const beat = setInterval(() => {
      ctx.waitUntil(stub.renew(got.leaseId, ttlMs).then(() => {}, () => {}));
    }, Math.max(1000, ttlMs / 3));
    ctx.waitUntil(
      body
        .pipeTo(pair.writable)
        .catch(() => {})
        .finally(() => {
          clearInterval(beat);
          release();
          onEnd?.();
        }),
    );
    return pair.readable;
  };
  return { ok: true, lease: { track, release } };
}

/** Wrap a response so its body holds the lease; bodiless responses release at once. */
export function holdWhileStreaming(lease: HeldLease, res: Response, onEnd?: () => void): Response {
  if (!res.body) {
    lease.release();
    onEnd?.();
    return res;
  }
  const length = Number(res.headers.get("content-length") ?? Number.NaN);
  return new Response(lease.track(res.body, Number.isFinite(length) ? length : null, onEnd), res);
}
