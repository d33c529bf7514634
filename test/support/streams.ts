/** A JavaScript stream (default type: no BYOB reader) of `length` bytes of `fill`, made as it is read in pieces of `piece` bytes. */
export function generatedBody(length: number, { piece = 65_536, fill = 0 }: { piece?: number; fill?: number } = {}): ReadableStream<Uint8Array> {
  let left = length;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (left === 0) return c.close();
      const n = Math.min(left, piece);
      left -= n;
      c.enqueue(new Uint8Array(n).fill(fill));
    },
  });
}
