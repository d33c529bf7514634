/**
 * One byte range of a chunked version as one stream: the chunks it covers, read one at a
 * time and only once the client has taken the one before, so memory holds at most one
 * chunk read's buffer whatever the range or the client's speed.
 *
 * A range inside one chunk is that chunk's own stream, untouched. Several chunks are
 * joined natively: each chunk body is piped (pipeTo, no JavaScript per piece) into one
 * FixedLengthStream whose readable is the answer's body. That is the one native stage
 * the bytes may cross: this workerd cannot pipe the readable of one IdentityTransformStream
 * or FixedLengthStream into another ("Inter-TransformStream ReadableStream.pipeTo() is
 * not implemented"), so the join registers its end and the bytes taken chunk by chunk
 * (platform/body-progress.ts) for whoever needs them (the download guard's lease, the
 * delivered-byte counter). JavaScript readers of it (the throttle, multipart answers) are fine.
 *
 * Lengths: each tier checks what it opens (Content-Range of a Cache API entry, R2's own
 * range read), and the FixedLengthStream holds the whole body to the range's length: a
 * chunk that delivers more, or a join that ends short, errors the body instead of handing
 * the client one of the wrong length.
 */
import type { ByteRange } from "../http/range";
import { chunksCovering } from "./layout";
import { progressOf, registerProgress } from "../platform/body-progress";

/** Bytes [from, to) of chunk `index`; null when the chunk is not (or no longer) there. */
export type ReadChunk = (index: number, from: number, to: number) => Promise<ReadableStream<Uint8Array> | null>;

/**
 * null when the first chunk is missing (the caller may try elsewhere); later gaps error
 * the stream. `onCancel` is told when the body stops early (client gone, read failed): it
 * will read no more chunks. A client that leaves while the join waits for a chunk (at a
 * fill's live edge) is noticed when that chunk comes: a native writer learns that its
 * reader is gone only by writing bytes (an empty write does not tell), as did the guard's
 * own pipe before.
 */
export async function chunkedRange(chunkSize: number, range: ByteRange, read: ReadChunk, onCancel?: () => void): Promise<ReadableStream<Uint8Array> | null> {
  const { first, last } = chunksCovering(range.start, range.end, chunkSize);
  const partOf = (i: number) => {
    const start = i * chunkSize;
    return { from: i === first ? range.start - start : 0, to: i === last ? range.end - start + 1 : chunkSize };
  };
  const readPart = (i: number) => {
    const { from, to } = partOf(i);
    return read(i, from, to);
  };
  const lengthOf = (i: number) => {
    const { from, to } = partOf(i);
    return to - from;
  };
  const opened = await readPart(first);
  if (!opened || first === last) return opened;
  const out = new FixedLengthStream(range.end - range.start + 1);
  let taken = 0;
  const ended = join(out.writable, { opened, first, last, readPart, lengthOf, took: (n) => (taken += n) });
  // Observed here: a failure reaches the client through the body itself.
  ended.catch(() => onCancel?.());
  registerProgress(out.readable, { ended, taken: () => taken });
  return out.readable;
}

interface Chunks {
  first: number;
  last: number;
  /** Chunk `first`, already open. */
  opened: ReadableStream<Uint8Array>;
  readPart(i: number): Promise<ReadableStream<Uint8Array> | null>;
  lengthOf(i: number): number;
  /** Told the length of each part once its reader took all of it. */
  took(bytes: number): void;
}

/** The chunks into `sink`, one after the other; closes it at the end, aborts it on any failure. */
async function join(sink: WritableStream<Uint8Array>, { first, last, opened, readPart, lengthOf, took }: Chunks): Promise<void> {
  try {
    let body = opened;
    for (let i = first; ; i++) {
      took(await copyInto(body, sink, lengthOf(i)));
      if (i === last) break;
      const next = await readPart(i + 1);
      if (!next) throw new Error(`chunk ${i + 1} is missing`);
      body = next;
    }
    await sink.close();
  } catch (e) {
    await sink.abort(e).catch(() => {});
    throw e;
  }
}

/**
 * pipeTo settles when its last write is taken by the reader, which is the back-pressure:
 * the next chunk is opened only after the client took this one. A chunk that is itself a
 * join (a store reading a version through another fill's geometry) is a FixedLengthStream
 * readable, which cannot be piped natively into ours: it is copied in JavaScript.
 */
async function copyInto(body: ReadableStream<Uint8Array>, sink: WritableStream<Uint8Array>, length: number): Promise<number> {
  if (!progressOf(body)) {
    await body.pipeTo(sink, { preventClose: true });
    return length;
  }
  const reader = body.getReader();
  const writer = sink.getWriter();
  let n = 0;
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      await writer.write(r.value);
      n += r.value.byteLength;
    }
    return n;
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    writer.releaseLock();
  }
}
