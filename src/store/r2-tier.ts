/**
 * The global tier on R2. A version's bytes (chunks, or one object for copies stored
 * before chunking) are written first; the pointer at meta/<key> is written last, only
 * once every chunk exists and checks out, so a reader of the pointer never meets a
 * missing or unverified byte. R2 is strongly consistent: a chunk is readable in every
 * colo as soon as its put resolves.
 */
import { chunkKey, chunkSpan, dataKey, isChunked, manifestKey, metaKey, versionKeys, type ChunkedMeta, type Manifest } from "./layout";
import { metaTextOf, metaToRecord, sameFill, type StoredMeta } from "./meta";
import { metaOf, type MetaMemo } from "./meta-memo";

/** The object at metaKey(): what it names (null when unreadable) and its R2 etag. */
export interface Pointer {
  meta: StoredMeta | null;
  etag: string;
}

/**
 * `replaced`: the version the pointer named before (its bytes are the caller's to delete,
 * once readers of it are done). `current`: what the pointer names instead of ours.
 */
export type CommitOutcome = { ok: true; replaced: StoredMeta | null } | { ok: false; current: StoredMeta | null };

export class R2Tier {
  /** `memo`: this isolate's shared metas (see meta-memo.ts); without one, each read parses its own. */
  constructor(
    private readonly bucket: R2Bucket,
    private readonly memo?: MetaMemo,
  ) {}

  async meta(key: string): Promise<StoredMeta | null> {
    return (await this.pointer(key))?.meta ?? null;
  }

  async pointer(key: string): Promise<Pointer | null> {
    const head = await this.bucket.head(metaKey(key));
    if (!head) return null;
    const meta = metaOf(metaTextOf(head.customMetadata), this.memo);
    return { meta: meta && meta.key === key ? meta : null, etag: head.etag };
  }

  /** Bytes [from, to) of chunk `index`; an unchunked copy is read as one chunk, its data object. */
  async chunk(meta: StoredMeta, index: number, from: number, to: number): Promise<ReadableStream<Uint8Array> | null> {
    const name = isChunked(meta) ? chunkKey(meta.key, meta.version, meta.fill, index) : dataKey(meta.key, meta.version);
    if (to === from) return (await this.bucket.head(name)) ? new ReadableStream({ start: (c) => c.close() }) : null;
    // A whole object is asked for without a range: a ranged read of all of it costs each
    // in-flight download more memory in workerd (15-25 KiB per stalled download, measured
    // in a standalone workerd against the same read without a range; issue #13).
    const span = isChunked(meta) ? chunkSpan(meta.length, meta.chunkSize, index) : { start: 0, end: meta.length };
    const whole = from === 0 && to === span.end - span.start;
    const object = await (whole ? this.bucket.get(name) : this.bucket.get(name, { range: { offset: from, length: to - from } }));
    return object?.body ?? null;
  }

  /** An immutable chunk; R2 checks the bytes against `sha256` (hex) before storing them. */
  async putChunk(key: string, version: string, fill: string, index: number, bytes: Uint8Array, sha256: string): Promise<void> {
    await this.bucket.put(chunkKey(key, version, fill, index), bytes, { sha256 });
  }

  /**
   * Makes a complete, verified version visible: its manifest, then the pointer, one write
   * each (R2 takes about one write per second per key). The pointer is written where there
   * is none, or over the one the fill began with (`base`: that object's etag), never over
   * one written meanwhile: another version committed since (the origin changed again) is
   * not replaced by an older fill. Check and write are one conditional put. A pointer
   * already naming exactly this version and fill is a commit whose answer was lost: done.
   */
  async commit(meta: ChunkedMeta, manifest: Manifest, base: string | null): Promise<CommitOutcome> {
    const current = await this.pointer(meta.key);
    if (current?.meta && sameFill(current.meta, meta)) return { ok: true, replaced: null };
    if (current && current.etag !== base) return { ok: false, current: current.meta };
    await this.bucket.put(manifestKey(meta.key, manifest.version, manifest.fill), JSON.stringify(manifest), { httpMetadata: { contentType: "application/json" } });
    // The body names the commit: an R2 etag is the MD5 of the body, so pointers with one
    // and the same (empty) body would all share one etag and `base` could not tell a
    // pointer written meanwhile from the one the fill began with.
    const body = `${meta.version}\n${meta.fill}`;
    const written = await this.bucket.put(metaKey(meta.key), body, { customMetadata: metaToRecord(meta), onlyIf: current ? { etagMatches: current.etag } : { etagDoesNotMatch: "*" } });
    if (!written) return { ok: false, current: await this.meta(meta.key) };
    return { ok: true, replaced: current?.meta ?? null };
  }

  /** Remove the visible version of `key`; returns what was there. */
  async purge(key: string): Promise<StoredMeta | null> {
    const previous = await this.meta(key);
    await this.bucket.delete(metaKey(key));
    if (previous) await this.deleteKeys(versionKeys(previous));
    return previous;
  }

  /** R2 deletes at most 1000 keys per call. */
  async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) await this.bucket.delete(keys.slice(i, i + 1000));
  }
}
