/**
 * Reads a body in pieces of at least a given size. A fetch body arrives in pieces of a
 * few KiB (4 KiB from a loopback origin: 12,000 reads for 48 MiB), and every read a
 * Worker's JavaScript awaits costs a promise turn and whatever it does per piece; a
 * bare `tee()` pays none of that. On a byte stream (every body workerd makes) this
 * asks for `min` bytes at once (workerd's `readAtLeast`, the `min` of the Streams
 * standard's BYOB read) into one scratch buffer reused from read to read.
 */
export interface BatchedReader {
  /**
   * The next piece: at least `min` bytes (at most the scratch size) unless the body ends
   * first; null once it has ended. The piece is valid until the next read: copy it out.
   */
  read(min: number): Promise<Uint8Array | null>;
  cancel(reason?: unknown): Promise<void>;
}

export function batchedReader(body: ReadableStream<Uint8Array>, scratchBytes: number): BatchedReader {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // A JavaScript stream of the default type has no BYOB reader: its pieces as they come.
    const reader = body.getReader();
    return {
      read: async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return null;
          if (value.byteLength > 0) return value;
        }
      },
      cancel: (reason) => reader.cancel(reason),
    };
  }
  let scratch = new Uint8Array(scratchBytes);
  let ended = false;
  return {
    read: async (min) => {
      for (;;) {
        if (ended) return null;
        const { done, value } = await byob.readAtLeast(Math.max(1, Math.min(min, scratch.byteLength)), scratch);
        // The read took the buffer (transferred) and hands it back inside `value`.
        if (value) scratch = new Uint8Array(value.buffer);
        // A stream that closes before `min` bytes may still carry the last few with done.
        if (done) ended = true;
        if (value && value.byteLength > 0) return value;
      }
    },
    cancel: (reason) => byob.cancel(reason),
  };
}
