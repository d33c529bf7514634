/**
 * Request and response bodies between client and backend, streamed, never buffered.
 *
 * Uploads pass through a pull-based wrapper (one read from the client per chunk the
 * backend side asks for, so back-pressure holds). It tells the proxy, at every moment,
 * whose turn it is: while a read from the client is pending the client is being waited
 * for, under the route's client-body timeout (nginx client_body_timeout: the limit is on
 * the silence between two reads, not on the upload's length); otherwise the backend is
 * (connecting, taking the next chunk, answering), under the route's own timeout. So a
 * backend is blamed only for its own silence (issue #11 H1), and every upload failure
 * on the client's side (stalled, broken off, shorter or longer than its Content-Length)
 * is reported as the client's, with the 4xx it deserves, never as the backend's.
 * A known Content-Length is kept by piping into a FixedLengthStream (a plain JS stream
 * would go out chunked).
 *
 * Downloads are piped natively (no per-chunk JavaScript) to learn when they end, which
 * is when a request stops counting as in flight.
 */
import { contentCoded, contentLength } from "../http/content-length";
import { watchedBody } from "../platform/body-progress";

/** A fault on the client's side of an upload, with the status it answers. */
export interface ClientFault {
  /** 408 (RFC 9110 §15.5.9) for a stall; 400 for a body that is not the one announced. */
  status: 400 | 408;
  detail: string;
}

export interface WatchedUpload {
  body: ReadableStream<Uint8Array>;
  /** Set once the upload failed on the client's side; the attempt must not blame the backend. */
  clientFault(): ClientFault | null;
}

export interface UploadWatch {
  /** Content-Length as announced (null: unknown, chunked). */
  length: number | null;
  /** Longest wait for the next chunk from the client before the upload counts as stalled. */
  clientTimeoutMs: number;
  /** Whose silence is being waited for now: "client" (a read is pending) or "backend". */
  waiting(who: "client" | "backend"): void;
  /**
   * Runs before the error reaches the upstream body: the caller aborts the subrequest
   * there, since workerd may otherwise end a chunked upload cleanly and the backend
   * would take a truncated body for a complete one.
   */
  onClientFault(fault: ClientFault): void;
}

export function watchUpload(source: ReadableStream<Uint8Array>, watch: UploadWatch, ctx: ExecutionContext): WatchedUpload {
  let fault: ClientFault | null = null;
  let received = 0;
  const reader = source.getReader();
  const fail = (f: ClientFault) => {
    if (fault) return;
    fault = f;
    watch.onClientFault(f);
    // Also ends a read still pending on a stalled client, so nothing waits on it any more.
    reader.cancel(new Error(f.detail)).catch(() => {});
  };
  const watched = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        watch.waiting("client");
        const stall = setTimeout(() => fail({ status: 408, detail: `the request body stalled (nothing received for ${watch.clientTimeoutMs} ms)` }), watch.clientTimeoutMs);
        let chunk: ReadableStreamReadResult<Uint8Array> | null = null;
        try {
          chunk = await reader.read();
        } catch {
          fail({ status: 400, detail: "the request body could not be read to its end" });
        } finally {
          clearTimeout(stall);
        }
        if (!fault && chunk && !chunk.done) {
          received += chunk.value.byteLength;
          if (watch.length !== null && received > watch.length) fail({ status: 400, detail: `the request body is longer than its Content-Length (${watch.length} bytes)` });
        } else if (!fault && watch.length !== null && received < watch.length) {
          fail({ status: 400, detail: `the request body ended after ${received} of ${watch.length} bytes (Content-Length)` });
        }
        if (fault) return controller.error(new Error((fault as ClientFault).detail));
        watch.waiting("backend");
        if (chunk!.done) controller.close();
        else controller.enqueue(chunk!.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  if (watch.length === null) return { body: watched, clientFault: () => fault };
  const fixed = new FixedLengthStream(watch.length);
  ctx.waitUntil(watched.pipeTo(fixed.writable).catch(() => {}));
  return { body: fixed.readable, clientFault: () => fault };
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
  const length = contentCoded(res.headers) ? null : contentLength(res.headers);
  const { readable, progress } = watchedBody(res.body, length);
  ctx.waitUntil(progress.ended.catch(() => {}).finally(onEnd));
  return new Response(readable, res);
}
