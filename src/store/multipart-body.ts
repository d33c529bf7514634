import type { MultipartPlan } from "../http/multipart";
import type { ByteRange } from "../http/range";
import type { ReadSpan } from "../http/range-coalesce";

/** Opens one read of a stored copy; null when the copy changed or disappeared. */
export type ReadRange = (r: ByteRange) => Promise<ReadableStream<Uint8Array> | null>;

/**
 * The body of a multipart/byteranges answer (RFC 9110 §14.6), pulled on demand: one
 * storage read per span of planReads(), the bytes between a span's parts read and
 * dropped. Only the current read is open and at most one of its chunks is held, so
 * memory does not depend on the span's size or the client's speed.
 */
export function multipartBody(plan: MultipartPlan, spans: readonly ReadSpan[], read: ReadRange): ReadableStream<Uint8Array> {
  const pieces = generate(plan, spans, read);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await pieces.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await pieces.return(undefined);
    },
  });
}

async function* generate(plan: MultipartPlan, spans: readonly ReadSpan[], read: ReadRange): AsyncGenerator<Uint8Array, void> {
  for (const span of spans) {
    const stream = await read({ start: span.start, end: span.end });
    if (!stream) throw new Error("stored copy changed while serving a multipart response");
    const bytes = new ByteReader(stream.getReader());
    try {
      let at = span.start;
      for (let i = span.first; i < span.first + span.count; i++) {
        const part = plan.parts[i]!;
        yield part.head;
        await bytes.skip(part.range.start - at);
        yield* bytes.take(part.range.end - part.range.start + 1);
        at = part.range.end + 1;
      }
    } finally {
      // Normally already at its end; on an abort this closes the storage read.
      await bytes.close();
    }
  }
  yield plan.tail;
}

/** Exact byte counts out of a stream of arbitrary chunks, holding one chunk at most. */
class ByteReader {
  private rest: Uint8Array = new Uint8Array(0);
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  private async current(): Promise<Uint8Array> {
    while (this.rest.byteLength === 0) {
      const { done, value } = await this.reader.read();
      if (done) throw new Error("stored copy ended early while serving a multipart response");
      this.rest = value;
    }
    return this.rest;
  }

  async skip(n: number): Promise<void> {
    for (let left = n; left > 0; ) {
      const chunk = await this.current();
      const k = Math.min(left, chunk.byteLength);
      this.rest = chunk.subarray(k);
      left -= k;
    }
  }

  async *take(n: number): AsyncGenerator<Uint8Array, void> {
    for (let left = n; left > 0; ) {
      const chunk = await this.current();
      const k = Math.min(left, chunk.byteLength);
      this.rest = chunk.subarray(k);
      left -= k;
      yield chunk.subarray(0, k);
    }
  }

  async close(): Promise<void> {
    this.rest = new Uint8Array(0);
    await this.reader.cancel().catch(() => {});
  }
}
