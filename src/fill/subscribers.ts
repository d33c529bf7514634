/**
 * The progress streams of one fill's waiting clients, and the fan-out over them. Only
 * small events cross (protocol.ts: chunk stored, done, fail, a lease for one client);
 * every client reads the chunks from R2 itself, so a crowd costs the coordinator one
 * message per event each, never a byte of the file. A stream whose write or close fails
 * is dropped: its client left, or its Worker died.
 */
import type { Lease } from "./plan";
import { encodeEvent, type ProgressEvent } from "./protocol";

/** The chunks [from, to) of the fill that a client's answer needs. */
interface ChunkWindow {
  from: number;
  to: number;
}

export class Subscribers {
  /** Open progress streams and the chunk window each one's client needs. */
  private readonly open = new Map<WritableStreamDefaultWriter<Uint8Array>, ChunkWindow>();

  /**
   * A progress stream for a client needing `window`. `finished`: every chunk is stored,
   * nothing will be announced any more, so the stream is closed at once.
   */
  subscribe(window: ChunkWindow, finished: boolean): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    if (finished) writer.close().catch(() => {});
    else {
      this.open.set(writer, window);
      writer.closed.catch(() => this.open.delete(writer));
    }
    return readable;
  }

  /**
   * Chunks nobody stores or fetches go to waiting clients whose window needs them, one
   * lease each (`lease`: one for the window, or null), told on their own stream only: a
   * dead filler costs one message, not a re-join of the whole crowd. The chosen one moves
   * to the back, so a subscriber that died without a word is not picked again before the
   * others.
   */
  handOut(lease: (window: ChunkWindow) => Lease | null): void {
    for (const [writer, window] of [...this.open]) {
      const given = lease(window);
      if (!given) continue;
      this.open.delete(writer);
      this.open.set(writer, window);
      writer.write(encodeEvent({ t: "lease", lease: given })).catch(() => this.open.delete(writer));
    }
  }

  /** To every stream; `done` and `fail` are the last word, the streams close after it. */
  emit(e: ProgressEvent): void {
    const bytes = encodeEvent(e);
    for (const w of this.open.keys()) w.write(bytes).catch(() => this.open.delete(w));
    if (e.t === "done" || e.t === "fail") this.closeAll();
  }

  /** Ends every stream (after its last word, or without one when the fill is reset). */
  closeAll(): void {
    for (const w of this.open.keys()) w.close().catch(() => {});
    this.open.clear();
  }
}
