/**
 * A node's answer for a version that is not stored yet: join the version's fill, fetch
 * the chunks the coordinator leases to us (in the background, so the fill outlives a
 * client that leaves), and stream the client's range chunk by chunk from the store,
 * waiting at the live edge for the next chunk's announcement. Nobody is detached for
 * being slow and nobody fetches a prefix again: a late or slow client just reads chunks
 * that already exist.
 */
import type { NodeConfig } from "../config/node-config";
import { ORIGIN_FAILURE } from "../http/request-id";
import type { ByteRange } from "../http/range";
import { chunkedRange } from "../store/chunk-stream";
import type { StoredCopy } from "../store/copy";
import { chunkCount, chunksCovering } from "../store/layout";
import type { OriginHead, StoredMeta } from "../store/meta";
import type { Store } from "../store/store";
import { hashPass, jobMeta, runLease, type FillJob } from "./filler";
import { CoordinatorLink, type CoordinatorStub } from "./link";
import { StoredNow, type LiveChunk } from "./live-chunk";
import { FillChunks } from "./live-chunks";
import type { Lease } from "./plan";
import { readEvents, type JoinResult, type PointerSeen } from "./protocol";

export interface ColdDeps {
  config: Pick<NodeConfig, "originUrl" | "originTimeoutMs" | "nodeId" | "fillStallSeconds" | "chunkSize">;
  store: Store;
  /**
   * A new stub to the version's coordinator: workerd keeps a stub broken once its object
   * has reset, so calls after a failure need a fresh one (see link.ts).
   */
  coordinator(): CoordinatorStub;
  waitUntil(p: Promise<unknown>): void;
  /** The request's id, named in the log line of a fill it starts. */
  requestId?: string;
}

export interface ColdTarget {
  key: string;
  target: string;
  version: string;
  head: OriginHead & { length: number };
}

export type ColdResult =
  | { kind: "stored"; meta: StoredMeta }
  /** `filling`: this request fetches chunks from the origin itself (Cache-Status "stored"). */
  | { kind: "live"; copy: StoredCopy; filling: boolean };

/** A fill that cannot deliver; before the first byte the node answers `status` (RFC 9110 §15.6.3, §15.6.5). */
export class FillFailed extends Error {
  readonly status: 502 | 504;
  constructor(reason: string) {
    super(reason);
    this.status = reason === ORIGIN_FAILURE.timeout.text ? 504 : 502;
  }
}

/** Joins rejected in a row without a chunk arriving, before the client's stream errors. */
const MAX_REJOINS = 5;

/**
 * `window`: the bytes the answer will need (all of them for a full GET). `seen`: the R2
 * pointer this request read, naming another version or none (JoinRequest.pointer).
 */
export async function coldRead(deps: ColdDeps, t: ColdTarget, window: ByteRange | null, seen?: PointerSeen): Promise<ColdResult> {
  const link = new CoordinatorLink(deps.coordinator);
  const first = await join(link, deps, t, window, seen);
  if (first.kind === "stored") return first;
  const fill = new LiveFill(deps, link, t, first.chunkSize, first.fill, window);
  const filling = fill.accept(first);
  return { kind: "live", copy: fill.copy(), filling };
}

/** One call per download (and per stall): the coordinator maps the bytes to its fill's own chunks. */
function join(link: CoordinatorLink, deps: ColdDeps, t: ColdTarget, window: ByteRange | null, seen?: PointerSeen): Promise<JoinResult> {
  return link.call((c) => c.join({ ...t, chunkSize: deps.config.chunkSize, window, worker: deps.config.nodeId, ...(deps.requestId ? { requestId: deps.requestId } : {}), ...(seen ? { pointer: seen } : {}) }) as Promise<JoinResult>);
}

class LiveFill {
  private readonly stored: Uint8Array;
  private readonly waiters = new Set<() => void>();
  /** Chunks this request fetches from the origin, read live by its client. */
  private readonly live = new FillChunks();
  private failure: FillFailed | null = null;
  private progress: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private rejoins = 0;
  private rejoining: Promise<void> | null = null;
  private readonly job: FillJob;
  /** Reads a stored chunk of this fill (colo cache, then R2); built once per request. */
  private readonly readStored: (index: number, from: number, to: number) => Promise<ReadableStream<Uint8Array> | null>;

  constructor(
    private readonly deps: ColdDeps,
    private readonly link: CoordinatorLink,
    private readonly t: ColdTarget,
    chunkSize: number,
    fill: string,
    private readonly window: ByteRange | null,
  ) {
    const chunks = chunkCount(t.head.length, chunkSize);
    this.stored = new Uint8Array(chunks);
    this.job = { ...t, fill, chunkSize, chunks };
    this.readStored = deps.store.chunkReader(jobMeta(this.job));
  }

  /** Takes a join's answer: stored set, progress stream, maybe a lease. True when leased. */
  accept(r: JoinResult): boolean {
    if (r.kind === "stored" && r.meta.fill !== this.job.fill) {
      // Completed under another fill id (refilled meanwhile): our chunk names do not exist.
      this.fail(new FillFailed("the fill restarted; retry"));
      return false;
    }
    if (r.kind === "stored") {
      this.stored.fill(1);
      this.wake();
      return false;
    }
    if (r.fill !== this.job.fill) {
      // The version was purged and restarted under a new fill id: our chunk names are stale.
      this.fail(new FillFailed("the fill restarted; retry"));
      r.progress.cancel().catch(() => {});
      return false;
    }
    for (let i = 0; i < r.stored.length; i++) if (r.stored[i]) this.stored[i] = 1;
    this.stopFollowing();
    const reader = r.progress.getReader();
    this.progress = reader;
    this.deps.waitUntil(this.follow(reader));
    if (r.lease) this.deps.waitUntil(this.fetchLease(r.lease));
    // A pass asked of an earlier joiner went silent (its Worker ended): this one runs it.
    if (r.hashPass) this.deps.waitUntil(hashPass({ store: this.deps.store, coordinator: this.link }, this.job));
    this.wake();
    return r.lease !== null;
  }

  private async fetchLease(lease: Lease): Promise<void> {
    const { config, store, requestId } = this.deps;
    await runLease({ config, store, coordinator: this.link, live: this.live, ...(requestId ? { requestId } : {}) }, this.job, lease);
  }

  private stopFollowing(): void {
    const reader = this.progress;
    this.progress = null;
    reader?.cancel().catch(() => {});
  }

  private async follow(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for await (const e of readEvents(reader)) {
        if (e.t === "chunk") {
          this.stored[e.i] = 1;
          this.rejoins = 0;
        } else if (e.t === "done") this.stored.fill(1);
        else if (e.t === "fail") this.fail(new FillFailed(e.changed ? "the file changed at the origin during the download; retry" : e.reason));
        else if (e.t === "lease") this.deps.waitUntil(this.fetchLease(e.lease));
        this.wake();
      }
    } catch {
      // The stream broke (coordinator restarted): the wait below rejoins after a stall.
    }
  }

  /** `at`: a chunk the reader waits for, when it lies outside the window joined for. */
  private rejoin(at?: number): Promise<void> {
    if (this.rejoining) return this.rejoining;
    this.rejoining = (async () => {
      if (++this.rejoins > MAX_REJOINS) return this.fail(new FillFailed("the fill stalled"));
      const next = at ?? this.firstMissing();
      if (next === null) return;
      // From the chunk waited for to the end of our window, in bytes like the first join.
      const start = next * this.job.chunkSize;
      const window = { start, end: Math.max(this.window?.end ?? this.t.head.length - 1, start) };
      try {
        this.accept(await join(this.link, this.deps, this.t, window));
      } catch (e) {
        this.fail(new FillFailed(`the fill coordinator failed: ${(e as Error).message}`));
      }
    })().finally(() => (this.rejoining = null));
    return this.rejoining;
  }

  private firstMissing(): number | null {
    const span = this.window ? chunksCovering(this.window.start, this.window.end, this.job.chunkSize) : { first: 0, last: this.job.chunks - 1 };
    for (let i = span.first; i <= span.last; i++) if (!this.stored[i]) return i;
    return null;
  }

  private fail(e: FillFailed): void {
    this.failure ??= e;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
    // Nothing more to hear once every chunk we need exists (or never will).
    if (this.firstMissing() === null || this.failure) this.stopFollowing();
  }

  /** Chunk `i` as soon as it is readable: stored (R2 / cache), or live from our own fetch. */
  private async readChunk(i: number, from: number, to: number): Promise<ReadableStream<Uint8Array> | null> {
    const stallMs = this.deps.config.fillStallSeconds * 1000;
    for (;;) {
      if (this.stored[i]) return this.readStored(i, from, to);
      const live = this.live.get(i);
      if (live) return this.liveRead(i, live, from, to);
      if (this.failure) throw this.failure;
      // Nothing heard for a whole lease: the filler may be gone without a word.
      if (!(await this.nextEvent(stallMs + 1000))) await this.rejoin(i);
    }
  }

  /** True at our next event (progress, our own chunks), false after `ms`. */
  private nextEvent(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let stopListening = () => {};
      const timer = setTimeout(() => {
        stopListening();
        this.waiters.delete(woken);
        resolve(false);
      }, ms);
      const woken = () => {
        clearTimeout(timer);
        stopListening();
        resolve(true);
      };
      this.waiters.add(woken);
      stopListening = this.live.onChange(woken);
    });
  }

  /**
   * A chunk read as our own origin fetch receives it. If that fetch dies, the client is
   * not cut off: the rest of the chunk comes from whoever resumes the fill (stored, or
   * live again when the resuming lease is ours).
   */
  private liveRead(i: number, live: LiveChunk, from: number, to: number): ReadableStream<Uint8Array> {
    let delivered = 0;
    // Twice the stall time: the filler gives up on a silent origin itself before that.
    const stallMs = this.deps.config.fillStallSeconds * 2000;
    let reader = live.read(from, to, stallMs).getReader();
    let resumes = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          try {
            const { done, value } = await reader.read();
            if (done) return controller.close();
            delivered += value.byteLength;
            return controller.enqueue(value);
          } catch (e) {
            // Stored meanwhile is no failure: the rest comes from the store.
            if (this.failure || (!(e instanceof StoredNow) && ++resumes > MAX_REJOINS)) throw this.failure ?? e;
            this.live.delete(i, live);
            const rest = await this.readChunk(i, from + delivered, to);
            if (!rest) throw e;
            reader = rest.getReader();
          }
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
  }

  copy(): StoredCopy {
    const meta: StoredMeta = jobMeta(this.job);
    const read = (i: number, from: number, to: number) => this.readChunk(i, from, to);
    // A client that left needs nothing more from the coordinator (a complete one stops in wake()).
    const range = (r: ByteRange) => chunkedRange(this.job.chunkSize, r, read, () => this.stopFollowing());
    return {
      tier: "r2",
      meta,
      body: {
        full: () => range({ start: 0, end: meta.length - 1 }),
        range,
        dispose: () => this.stopFollowing(),
      },
    };
  }
}
