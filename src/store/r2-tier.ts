/**
 * The global tier on R2. A version's bytes (chunks, or one object for copies stored
 * before chunking) are written first; the pointer at meta/<key> is written last, only
 * once every chunk exists and checks out, so a reader of the pointer never meets a
 * missing or unverified byte. R2 is strongly consistent: a chunk is readable in every
 * colo as soon as its put resolves.
 */
import { chunkKey, dataKey, isChunked, manifestKey, metaKey, versionKeys, type Manifest } from "./layout";
import { metaFromRecord, metaToRecord, type StoredMeta } from "./meta";

export class R2Tier {
  constructor(private readonly bucket: R2Bucket) {}

  async meta(key: string): Promise<StoredMeta | null> {
    const head = await this.bucket.head(metaKey(key));
    const meta = metaFromRecord(head?.customMetadata);
    return meta && meta.key === key ? meta : null;
  }

  /** Bytes [from, to) of chunk `index`; an unchunked copy is read as one chunk, its data object. */
  async chunk(meta: StoredMeta, index: number, from: number, to: number): Promise<ReadableStream<Uint8Array> | null> {
    const name = isChunked(meta) ? chunkKey(meta.key, meta.version, meta.fill, index) : dataKey(meta.key, meta.version);
    if (to === from) return (await this.bucket.head(name)) ? new ReadableStream({ start: (c) => c.close() }) : null;
    const object = await this.bucket.get(name, { range: { offset: from, length: to - from } });
    return object?.body ?? null;
  }

  /** An immutable chunk; R2 checks the bytes against `sha256` (hex) before storing them. */
  async putChunk(key: string, version: string, fill: string, index: number, bytes: Uint8Array, sha256: string): Promise<void> {
    await this.bucket.put(chunkKey(key, version, fill, index), bytes, { sha256 });
  }

  /** Make a complete, verified version visible, and drop the version it replaces. */
  async commit(meta: StoredMeta, manifest: Manifest | null): Promise<void> {
    const previous = await this.meta(meta.key);
    if (manifest) await this.bucket.put(manifestKey(meta.key, manifest.version, manifest.fill), JSON.stringify(manifest), { httpMetadata: { contentType: "application/json" } });
    await this.bucket.put(metaKey(meta.key), "", { customMetadata: metaToRecord(meta) });
    if (previous && (previous.version !== meta.version || previous.fill !== meta.fill)) await this.deleteKeys(versionKeys(previous));
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
