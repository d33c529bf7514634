/**
 * One client following a fill. Live bytes are queued for it up to QUEUE_LIMIT; a client
 * slower than that is detached and, once the fill has completed, continues from R2 at
 * the byte where it left. So the fill (and every other client) runs at the origin's
 * pace, never at the slowest client's, and memory per client stays bounded.
 */
export const QUEUE_LIMIT = 4 * 1024 * 1024;

export interface FillProgress {
  /** Resolves true when the object is complete and readable from R2, false on failure. */
  readonly finished: Promise<boolean>;
  readonly failure: () => string | null;
  /** Read the completed object from `offset` to its end. */
  readonly readStored: (offset: number) => Promise<ReadableStream<Uint8Array> | null>;
}

export class Subscriber {
  readonly stream: ReadableStream<Uint8Array>;
  private queue: Uint8Array[] = [];
  private queued = 0;
  /** Offset of the next live byte this subscriber expects. */
  private next: number;
  private detachedAt: number | null = null;
  private liveEnded = false;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private wake: (() => void) | null = null;
  private cancelled = false;

  /**
   * @param joinOffset bytes the fill had already received when this client arrived
   * @param prefix the bytes [0, joinOffset) from elsewhere (origin range), or null to
   *   take everything from the stored copy after completion
   */
  constructor(
    joinOffset: number,
    prefix: ReadableStream<Uint8Array> | null,
    private readonly progress: FillProgress,
    private readonly onCancel: (s: Subscriber) => void,
  ) {
    this.next = joinOffset;
    if (joinOffset > 0 && !prefix) this.detachedAt = 0;
    this.reader = prefix?.getReader() ?? null;
    this.stream = new ReadableStream<Uint8Array>({
      pull: (controller) => this.pull(controller),
      cancel: async (reason) => {
        this.cancelled = true;
        this.onCancel(this);
        await this.reader?.cancel(reason).catch(() => {});
      },
    });
  }

  get live(): boolean {
    return this.detachedAt === null && !this.cancelled;
  }

  /** A live chunk at `offset` (always this.next for live subscribers). */
  push(chunk: Uint8Array, offset: number): void {
    if (!this.live || offset !== this.next) return;
    if (this.queued + chunk.byteLength > QUEUE_LIMIT) {
      // What is queued is still delivered first; the rest comes from the stored copy.
      this.detachedAt = this.next;
    } else {
      this.queue.push(chunk);
      this.queued += chunk.byteLength;
      this.next += chunk.byteLength;
    }
    this.poke();
  }

  /** The fill has ended (complete or failed): nothing more will be pushed. */
  end(): void {
    this.liveEnded = true;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      if (this.reader) {
        const { done, value } = await this.reader.read();
        if (!done) return controller.enqueue(value);
        this.reader = null;
        if (this.detachedAt === -1) return controller.close();
        continue;
      }
      const chunk = this.queue.shift();
      if (chunk) {
        this.queued -= chunk.byteLength;
        return controller.enqueue(chunk);
      }
      if (this.detachedAt !== null && this.detachedAt >= 0) {
        const from = this.detachedAt;
        this.detachedAt = -1; // from now on: the stored tail, then the end
        if (!(await this.progress.finished)) return controller.error(new Error(this.progress.failure() ?? "fill failed"));
        const tail = await this.progress.readStored(from);
        if (!tail) return controller.error(new Error("stored copy vanished"));
        this.reader = tail.getReader();
        continue;
      }
      if (this.detachedAt === -1) return controller.close();
      if (this.liveEnded) {
        const failure = this.progress.failure();
        return failure ? controller.error(new Error(failure)) : controller.close();
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
