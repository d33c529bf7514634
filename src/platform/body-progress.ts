/**
 * How far a native answer body got, without a JavaScript stage on its bytes.
 *
 * A body piped natively (pipeTo into a FixedLengthStream or IdentityTransformStream) costs
 * no JavaScript per byte, but that stage's readable cannot be piped natively again (this
 * workerd: "Inter-TransformStream ReadableStream.pipeTo() is not implemented"), and a
 * JavaScript copy of a large body costs CPU time by the gigabyte (issue #13; and on
 * Cloudflare a Worker's CPU limit would cut a long download). So whoever makes such a
 * body registers here when it ends and how many bytes its client has taken so far, and
 * whoever needs to know (the download guard's lease, the delivered-byte counter) asks
 * here instead of adding a stage.
 *
 * `taken` counts whole parts: a write to a native writable resolves once its reader took
 * it, so a part counts when the client's connection took all of it. A joined body
 * (store/chunk-stream.ts) counts chunk by chunk; a watched single body, whole or nothing.
 */

export interface BodyProgress {
  /** Settles when the body had its last byte, failed, or its client left. */
  ended: Promise<void>;
  /** Bytes of the parts the client took whole so far (all of them once `ended` resolved). */
  taken(): number;
}

/**
 * Keyed by the stream itself: an entry lives exactly as long as the request's body and
 * nothing is shared between requests (the one module-level map of this kind, as
 * platform/per-isolate.ts is for per-env state).
 */
const registry = new WeakMap<ReadableStream<Uint8Array>, BodyProgress>();

export function registerProgress(body: ReadableStream<Uint8Array>, progress: BodyProgress): void {
  registry.set(body, progress);
}

export function progressOf(body: ReadableStream<Uint8Array>): BodyProgress | undefined {
  return registry.get(body);
}

/**
 * `body` with its progress known: itself when already registered, else piped natively
 * into a stream of `length` bytes (FixedLengthStream keeps Content-Length; none without
 * a length), counted whole or nothing. Every native stage of this project is made here or
 * by store/chunk-stream.ts, so a body that is another stage's readable is always found
 * registered: piping one natively would never settle in this workerd (see above).
 */
export function watchedBody(body: ReadableStream<Uint8Array>, length: number | null): { readable: ReadableStream<Uint8Array>; progress: BodyProgress } {
  const known = registry.get(body);
  if (known) return { readable: body, progress: known };
  const pair = length === null ? new IdentityTransformStream() : new FixedLengthStream(length);
  let done = false;
  const ended = body.pipeTo(pair.writable).then(() => {
    done = true;
  });
  const progress = { ended, taken: () => (done && length !== null ? length : 0) };
  registry.set(pair.readable, progress);
  return { readable: pair.readable, progress };
}
