/**
 * The chunk a Worker is fetching from the origin right now, readable by that Worker's
 * own client while it arrives: the first client of a cold file gets its first byte as
 * soon as the origin sends it, not a chunk later. Readers never slow the fill (they take
 * views of bytes already received); every other request reads the chunk from the store
 * once it is stored (see live-chunks.ts for why not from here).
 *
 * Memory: once the chunk is stored (end()), a reader still more than SWITCH_BYTES behind
 * gets `StoredNow` and goes on from the store, so a slow client never keeps a chunk
 * buffer alive after its fill moved on.
 *
 * The file's last chunk holds back its final byte until end() (stored and the whole file
 * checked), so no client completes a body the fill then refuses (RFC 9530 digest
 * mismatch, a discarded fill): it gets an error first.
 */
export class LiveChunk {
  private received = 0;
  private ended = false;
  private error: Error | null = null;
  private readonly waiters = new Set<() => void>();

  /** `buffer`: the chunk's bytes as the filler writes them in order; `final`: the file's last chunk. */
  constructor(
    private readonly buffer: Uint8Array,
    private readonly final: boolean,
  ) {}

  /** The filler wrote bytes up to `filled` into the buffer. */
  filledTo(filled: number): void {
    this.received = filled;
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  /** After end() the chunk is stored and whole: a later failure is not its readers'. */
  fail(e: Error): void {
    if (this.ended) return;
    this.error = e;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  /** How far a reader may go now: a final chunk keeps its last byte until end(). */
  private readable(): number {
    return this.final && !this.ended ? Math.min(this.received, this.buffer.byteLength - 1) : this.received;
  }

  /**
   * Bytes [from, to) as they arrive. Nothing new for `stallMs` ends the read with an
   * error: the filler stops a silent origin itself well before that, so silence this long
   * means the filler is gone (its request ended) and the reader must resume elsewhere.
   */
  read(from: number, to: number, stallMs: number): ReadableStream<Uint8Array> {
    let at = from;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          if (at >= to) return controller.close();
          if (this.error) return controller.error(this.error);
          if (this.ended && to - at > SWITCH_BYTES) return controller.error(new StoredNow());
          // Everything there is in one view, however small the origin's reads were.
          const limit = Math.min(to, this.readable());
          if (at < limit) {
            const view = this.buffer.subarray(at, limit);
            at = limit;
            return controller.enqueue(view);
          }
          if (this.ended && this.received < to) return controller.error(new Error("chunk ended short"));
          if (!(await this.waitForMore(stallMs))) {
            this.fail(new Error(`no bytes of the chunk for ${stallMs / 1000} s`));
            return controller.error(this.error);
          }
        }
      },
    });
  }

  /** False once nothing has arrived for `stallMs`. */
  private waitForMore(stallMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), stallMs);
      this.waiters.add(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** A reader this far from its end when the chunk is stored reads the rest from the store. */
const SWITCH_BYTES = 1024 * 1024;

/** The chunk is stored: read the rest of it from the store (not an error of the fill). */
export class StoredNow extends Error {
  constructor() {
    super("the chunk is stored now; read the rest from the store");
  }
}
