/**
 * The store every part of the system reads copies through: node, X-Sendfile's r2: root
 * (its own objects, see proxy/sendfile), admin purge and the base's object info. Chunks
 * are read through the colo's Cache API first and R2 second; a chunk found only in R2
 * is put into this colo's cache in the background from its own read, once per colo.
 */
import type { ByteRange } from "../http/range";
import { CacheTier } from "./cache-tier";
import { chunkedRange, type ReadChunk } from "./chunk-stream";
import type { StoredCopy, TierName } from "./copy";
import { chunkKey, chunkSpan, isChunked } from "./layout";
import { sameFill, type StoredMeta } from "./meta";
import type { MetaMemo } from "./meta-memo";
import type { PurgeCheck } from "./purge-view";
import { R2Tier, type Pointer } from "./r2-tier";

export interface StoreOptions {
  /** Files up to this size are kept in the colo's Cache API (CACHE_API_MAX_BYTES); 0 = R2 only. */
  cacheMaxBytes: number;
  /** Background work (cache warming) that may outlive the response. */
  waitUntil(p: Promise<unknown>): void;
  /**
   * The purge log, checked before a colo pointer is served (purge-view.ts); absent = no
   * check (a store that only purges, or reads no colo pointer).
   */
  purges?: PurgeCheck;
  /** This isolate's shared metas (meta-memo.ts); absent = every read parses its own. */
  metas?: MetaMemo;
}

/** Copies stored before chunking are one object; this colo keeps those up to the old default size. */
const LEGACY_INLINE_MAX = 256 * 1024 * 1024;

export interface LookupHooks {
  /**
   * This colo holds no pointer, so R2 is asked next: a caller that will ask the origin
   * whatever R2 says (REVALIDATE_SECONDS=0) starts now instead of after R2's answer.
   */
  toR2?(): void;
}

export class Store {
  readonly cache: CacheTier;
  readonly r2: R2Tier;
  /**
   * The purge-log generation pointers this request puts are stamped with: read when the
   * request began, so before any R2 read it makes. A purge recorded after that read has
   * a higher generation, and the pointer is dropped at its next check.
   */
  private readonly stamp: number;
  /** The R2 pointers this request read, by key (see pointerSeen). */
  private readonly seen = new Map<string, Pointer | null>();

  constructor(bucket: R2Bucket, cache: Cache, private readonly options: StoreOptions) {
    this.cache = new CacheTier(cache, options.metas);
    this.r2 = new R2Tier(bucket, options.metas);
    this.stamp = options.purges?.stamp() ?? 0;
  }

  /**
   * The visible version of `key`: this colo's pointer first, unless the purge log says
   * it was purged since the pointer was learnt; else R2's (then warmed here).
   */
  async lookup(key: string, hooks: LookupHooks = {}): Promise<StoredCopy | null> {
    if (this.options.cacheMaxBytes > 0) {
      const hit = await this.cache.pointer(key);
      // Answered at once while the purge log held here is fresh: a hit waits for no second turn (issue #13).
      const check = hit ? this.options.purges?.purged(key, hit.stamp) : undefined;
      const purged = check instanceof Promise ? await check : check;
      if (hit && !purged) return this.copy(hit.meta, "cache-api", hit.body);
      if (hit) {
        // Purged in some colo since this one learnt it: forget the pointer here and read
        // R2's. Its chunk entries stay: unreachable once R2 moved on (a refill has a new
        // fill id), and still right if the log only could not vouch (a trimmed entry).
        void hit.body?.cancel().catch(() => {});
        this.options.waitUntil(this.cache.purge(key, null).catch(() => {}));
      }
    }
    hooks.toR2?.();
    const meta = await this.visibleInR2(key);
    if (!meta) return null;
    this.warmPointer(meta);
    return this.copy(meta, "r2");
  }

  /** R2's visible version of `key` (not this colo's pointer), remembered for pointerSeen(). */
  async visibleInR2(key: string): Promise<StoredMeta | null> {
    const pointer = await this.r2.pointer(key);
    this.seen.set(key, pointer);
    return pointer?.meta ?? null;
  }

  /**
   * The R2 pointer this request read for `key` (null: there was none), if it read one. A
   * fill's coordinator takes it as the pointer its commit may replace rather than read R2
   * again before a cold file's first byte.
   */
  pointerSeen(key: string): Pointer | null | undefined {
    return this.seen.get(key);
  }

  /** A copy of `meta`'s version; `inline` is a pointer body already opened by lookup. */
  copy(meta: StoredMeta, tier: TierName = "r2", inline: ReadableStream<Uint8Array> | null = null): StoredCopy {
    let held = inline;
    const take = () => {
      const b = held;
      held = null;
      return b;
    };
    const read = this.chunkReader(meta);
    const range = async (r: ByteRange) => {
      void take()?.cancel().catch(() => {});
      return chunkedRange(geometry(meta), r, read);
    };
    return {
      tier,
      meta,
      body: {
        // The pointer's inline body at once (a small file's hit); else read from the tiers.
        full: () => take() ?? (meta.length === 0 ? emptyStream() : range({ start: 0, end: meta.length - 1 })),
        range,
        dispose: () => void take()?.cancel().catch(() => {}),
      },
    };
  }

  /**
   * Reads chunk bytes of `meta` (cache, then R2 with warming); shared with live fills. A
   * chunk in neither tier sends the reader to wherever R2's pointer says the version is
   * now (see relocate), once per reader.
   */
  chunkReader(meta: StoredMeta): ReadChunk {
    const direct = this.tiersReader(meta);
    let moved: Promise<ReadChunk | null> | null = null;
    return async (index, from, to) => {
      const body = await direct(index, from, to);
      if (body) return body;
      moved ??= this.relocate(meta);
      const elsewhere = await moved;
      return elsewhere ? elsewhere(index, from, to) : null;
    };
  }

  private tiersReader(meta: StoredMeta): ReadChunk {
    const cached = this.cacheable(meta);
    if (!isChunked(meta) || meta.length <= meta.chunkSize) {
      // One chunk: the inline pointer body is the colo copy.
      return async (index, from, to) => (cached ? await this.cache.inlineRange(meta, from, to) : null) ?? (await this.r2.chunk(meta, index, from, to));
    }
    return async (index, from, to) => {
      const length = chunkSpan(meta.length, meta.chunkSize, index);
      if (cached) {
        const hit = await this.cache.chunk(meta, index, from, to, length.end - length.start);
        if (hit) return hit;
      }
      const body = await this.r2.chunk(meta, index, from, to);
      if (body && cached) this.options.waitUntil(this.warmChunk(meta, index, length.end - length.start).catch(() => {}));
      return body;
    };
  }

  /**
   * A chunk of `meta` is in neither tier. Either the copy is broken (R2's pointer still
   * names exactly it: take it down so the next request refills), or `meta` came from a
   * pointer this colo kept after R2 moved on: the version was purged, replaced, or
   * refilled under another fill id, whose chunks have other names, and the old ones are
   * deleted. Then this colo's pointer is dropped (the next lookup learns R2's), and when
   * R2 holds the same version the bytes are the same: they are read from there, by
   * offset, since the other fill may cut chunks at another size.
   */
  private async relocate(meta: StoredMeta): Promise<ReadChunk | null> {
    const current = await this.r2.meta(meta.key);
    if (current && sameFill(current, meta)) {
      await this.purge(meta.key);
      return null;
    }
    if (this.cacheable(meta)) this.options.waitUntil(this.cache.dropPointer(meta).catch(() => {}));
    if (current?.version !== meta.version) return null;
    const read = this.chunkReader(current);
    const size = geometry(meta);
    return (index, from, to) => chunkedRange(geometry(current), { start: index * size + from, end: index * size + to - 1 }, read);
  }

  /**
   * One immutable chunk of a fill into R2 (which checks `sha256`): from then on every colo
   * can read it. Its colo copy is cacheChunk's.
   */
  async writeChunk(meta: StoredMeta, index: number, bytes: Uint8Array, sha256: string): Promise<void> {
    if (!isChunked(meta)) throw new Error("writeChunk needs a chunked meta");
    await this.r2.putChunk(meta.key, meta.version, meta.fill, index, bytes, sha256);
  }

  /**
   * Puts a chunk of a fill into this colo's cache too; never fails (a miss later reads R2).
   * Apart from writeChunk so a fill can report the chunk before this put finishes: readers
   * in the colo then take R2 until the entry exists, and `claimed` (the chunk's warming
   * claimed first, a tiny entry) keeps each of them from warming it again meanwhile.
   */
  cacheChunk(meta: StoredMeta, index: number, bytes: Uint8Array): { claimed: Promise<void>; cached: Promise<void> } {
    if (!isChunked(meta) || !this.cacheable(meta) || meta.length <= meta.chunkSize) return { claimed: Promise.resolve(), cached: Promise.resolve() };
    const claimed = this.cache.markWarming(meta, index).catch(() => {});
    const cached = this.cache.putChunk(meta, index, bytes, bytes.byteLength).catch(() => {});
    return { claimed, cached: Promise.all([claimed, cached]).then(() => {}) };
  }

  /** A chunk nobody will read (its fill was refused): out of R2 and this colo's cache. */
  async deleteChunk(meta: StoredMeta, index: number): Promise<void> {
    if (!isChunked(meta)) throw new Error("deleteChunk needs a chunked meta");
    await Promise.all([this.r2.deleteKeys([chunkKey(meta.key, meta.version, meta.fill, index)]), this.cache.deleteChunk(meta, index)]);
  }

  private async warmChunk(meta: StoredMeta, index: number, length: number): Promise<void> {
    if (!(await this.cache.claimWarming(meta, index))) return;
    const body = await this.r2.chunk(meta, index, 0, length);
    if (body) await this.cache.putChunk(meta, index, body, length);
  }

  /** This colo learns the pointer (and a one-chunk file's bytes) from an R2 hit. */
  warmPointer(meta: StoredMeta): void {
    if (!this.cacheable(meta)) return;
    const oneChunk = !isChunked(meta) || meta.length <= meta.chunkSize;
    this.options.waitUntil(
      (async () => {
        if (!oneChunk) return this.cache.putPointer(meta, null, this.stamp);
        const body = await this.r2.chunk(meta, 0, 0, meta.length);
        if (body) await this.cache.putPointer(meta, body, this.stamp);
      })().catch(() => {}),
    );
  }

  private cacheable(meta: StoredMeta): boolean {
    return this.options.cacheMaxBytes > 0 && meta.length <= this.options.cacheMaxBytes && (isChunked(meta) || meta.length <= LEGACY_INLINE_MAX);
  }

  /** Removes `key` from R2 and this colo's Cache API; other colos drop it at their next revalidation. */
  async purge(key: string): Promise<StoredMeta | null> {
    const previous = await this.r2.purge(key);
    await this.cache.purge(key, previous);
    return previous;
  }
}

/** Bytes per chunk as chunkedRange reads `meta`: a copy stored before chunking is one chunk. */
function geometry(meta: StoredMeta): number {
  return isChunked(meta) ? meta.chunkSize : Math.max(1, meta.length);
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => c.close() });
}
