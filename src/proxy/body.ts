/**
 * Request and response bodies between client and backend, streamed, never buffered.
 *
 * Uploads pass through a pull-based wrapper (one read per chunk the backend side asks
 * for, so back-pressure holds) that tells the proxy two things a native pipe cannot:
 * progress, so the attempt's timeout measures silence rather than the length of an
 * upload, and whether a failure came from the client's side, so a client that breaks
 * off its upload cannot get a healthy backend marked down. A known Content-Length is
 * kept by piping into a FixedLengthStream (a plain JS stream would go out chunked).
 *
 * Downloads are piped natively (no per-chunk JavaScript) to learn when they end, which
 * is when a request stops counting as in flight.
 */

export interface WatchedUpload {
  body: ReadableStream<Uint8Array>;
  /** True once reading the client's body failed (it went away or sent less than announced). */
  clientFailed(): boolean;
}

/**
 * `onClientError` runs before the error reaches the upstream body: the caller aborts
 * the subrequest there, since workerd may otherwise end a chunked upload cleanly and the
 * backend would take a truncated body for a complete one.
 */
export function watchUpload(source: ReadableStream<Uint8Array>, length: number | null, onProgress: () => void, onClientError: () => void, ctx: ExecutionContext): WatchedUpload {
  let failed = false;
  const reader = source.getReader();
  const watched = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          failed = true;
          onClientError();
          controller.error(e);
          return;
        }
        onProgress();
        if (chunk.done) controller.close();
        else controller.enqueue(chunk.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  if (length === null) return { body: watched, clientFailed: () => failed };
  const fixed = new FixedLengthStream(length);
  ctx.waitUntil(watched.pipeTo(fixed.writable).catch(() => {}));
  return { body: fixed.readable, clientFailed: () => failed };
}

/** Content-Length as a number, or null when absent or not a plain decimal. */
export function contentLength(headers: Headers): number | null {
  const v = headers.get("content-length");
  return v !== null && /^\d{1,15}$/.test(v.trim()) ? Number(v) : null;
}

/**
 * `body` re-streamed natively; `onEnd` runs once it is fully sent or the client is gone.
 * The length is kept when it is known and the body is not content-coded (workerd hands
 * out decoded bodies of encoded responses, whose length the header does not describe).
 */
export function onBodyEnd(res: Response, onEnd: () => void, ctx: ExecutionContext): Response {
  if (!res.body) {
    onEnd();
    return res;
  }
  const coding = res.headers.get("content-encoding");
  const length = coding && coding.toLowerCase() !== "identity" ? null : contentLength(res.headers);
  const pair = length === null ? new IdentityTransformStream() : new FixedLengthStream(length);
  ctx.waitUntil(res.body.pipeTo(pair.writable).catch(() => {}).finally(onEnd));
  return new Response(pair.readable, res);
}
