/**
 * The chunk a Worker is fetching from the origin right now, readable by that Worker's
 * own client while it arrives: the first client of a cold file gets its first byte as
 * soon as the origin sends it, not a chunk later. Readers never slow the fill (they
 * take views of bytes already received); a reader keeps the chunk's bytes alive only
 * until it has read them, and every other chunk is read from the store.
 */
export class LiveChunk {
  private readonly pieces: Uint8Array[] = [];
  private received = 0;
  private ended = false;
  private error: Error | null = null;
  private readonly waiters = new Set<() => void>();

  append(piece: Uint8Array): void {
    this.pieces.push(piece);
    this.received += piece.byteLength;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(e: Error): void {
    this.error = e;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  /** Bytes [from, to) as they arrive. */
  read(from: number, to: number): ReadableStream<Uint8Array> {
    let at = from;
    let piece = 0;
    let pieceStart = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          if (at >= to) return controller.close();
          if (this.error) return controller.error(this.error);
          while (piece < this.pieces.length && pieceStart + this.pieces[piece]!.byteLength <= at) {
            pieceStart += this.pieces[piece]!.byteLength;
            piece++;
          }
          const p = this.pieces[piece];
          if (p) {
            const view = p.subarray(at - pieceStart, Math.min(p.byteLength, to - pieceStart));
            at += view.byteLength;
            return controller.enqueue(view);
          }
          if (this.ended) return controller.error(new Error("chunk ended short"));
          await new Promise<void>((resolve) => this.waiters.add(resolve));
        }
      },
    });
  }
}
