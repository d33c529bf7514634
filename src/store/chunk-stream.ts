/**
 * One byte range of a chunked version as one stream: the chunks it covers, read one at a
 * time and only when the client has taken the previous one (pull), so memory holds at
 * most one chunk read's buffer whatever the range or the client's speed. Every chunk
 * read must deliver exactly the bytes asked for; anything else errors the stream rather
 * than hand the client a body of the wrong length.
 *
 * A range inside one chunk is that chunk's own stream, untouched (workerd moves it
 * natively). Several chunks are joined in JavaScript, piece by piece: joining them with
 * native pipes into one IdentityTransform/FixedLengthStream would be faster, but in this
 * workerd a second such stream downstream (the guard's, the throttle's) then never
 * receives the bytes (the pipe chain stalls), see README "Known limits".
 */
import type { ByteRange } from "../http/range";
import { chunksCovering } from "./layout";

/** Bytes [from, to) of chunk `index`; null when the chunk is not (or no longer) there. */
export type ReadChunk = (index: number, from: number, to: number) => Promise<ReadableStream<Uint8Array> | null>;

/** null when the first chunk is missing (the caller may try elsewhere); later gaps error the stream. */
export async function chunkedRange(chunkSize: number, range: ByteRange, read: ReadChunk, onCancel?: () => void): Promise<ReadableStream<Uint8Array> | null> {
  const { first, last } = chunksCovering(range.start, range.end, chunkSize);
  const part = (i: number) => {
    const start = i * chunkSize;
    const from = i === first ? range.start - start : 0;
    const to = i === last ? range.end - start + 1 : chunkSize;
    return { from, to };
  };
  const p0 = part(first);
  const opened = await read(first, p0.from, p0.to);
  if (!opened || first === last) return opened;
  let index = first;
  let reader = opened.getReader();
  let left = p0.to - p0.from;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader.read();
        if (!done) {
          if (value.byteLength > left) throw new Error(`chunk ${index} is longer than expected`);
          left -= value.byteLength;
          if (value.byteLength > 0) return controller.enqueue(value);
          continue;
        }
        if (left !== 0) throw new Error(`chunk ${index} ended ${left} bytes short`);
        if (index === last) return controller.close();
        index++;
        const p = part(index);
        const next = await read(index, p.from, p.to);
        if (!next) throw new Error(`chunk ${index} is missing`);
        reader = next.getReader();
        left = p.to - p.from;
      }
    },
    async cancel(reason) {
      onCancel?.();
      await reader.cancel(reason).catch(() => {});
    },
  });
}
