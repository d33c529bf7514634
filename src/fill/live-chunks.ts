/**
 * The chunks one request is fetching from the origin for its fill, read live by that
 * request's own client. Other requests of the isolate read them from the store: workerd
 * lets no request touch another's I/O objects (timers, streams, its promises'
 * continuations), so they could only poll, and bench-node figure 5 measured polling
 * readers streaming from JS memory at 1.4-1.8x the workerd CPU of the same crowd reading
 * the stored chunks (the Cache API streams natively).
 */
import type { LiveChunk } from "./live-chunk";

export class FillChunks {
  private readonly chunks = new Map<number, LiveChunk>();
  private readonly listeners = new Set<() => void>();

  get(index: number): LiveChunk | undefined {
    return this.chunks.get(index);
  }

  set(index: number, chunk: LiveChunk): void {
    this.chunks.set(index, chunk);
    this.changed();
  }

  /** Only `chunk` itself: a second filler of the same index (a lease taken back) keeps its own. */
  delete(index: number, chunk: LiveChunk): void {
    if (this.chunks.get(index) === chunk) this.chunks.delete(index);
    this.changed();
  }

  /** Calls `listener` at the next change; returns how to stop listening. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    const now = [...this.listeners];
    this.listeners.clear();
    for (const l of now) l();
  }
}
