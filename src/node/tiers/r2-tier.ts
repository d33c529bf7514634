import type { ByteRange } from "../../http/range";
import { dataKey, metaFromRecord, metaKey, metaToRecord, type StoredMeta } from "../meta";
import type { StoredCopy } from "./tier";

/**
 * Global tier on R2. A version is two objects: its bytes under a key that includes the
 * version, and a small pointer at meta/<key> written only after the bytes are complete
 * and checked, so a reader can never see a partial or unverified copy.
 */
export class R2Tier {
  constructor(private readonly bucket: R2Bucket) {}

  async meta(key: string): Promise<StoredMeta | null> {
    const head = await this.bucket.head(metaKey(key));
    const meta = metaFromRecord(head?.customMetadata);
    return meta && meta.key === key ? meta : null;
  }

  copy(meta: StoredMeta): StoredCopy {
    const key = dataKey(meta.key, meta.version);
    return {
      tier: "r2",
      meta,
      body: {
        full: async () => (await this.bucket.get(key))?.body ?? null,
        range: async (r: ByteRange) =>
          (await this.bucket.get(key, { range: { offset: r.start, length: r.end - r.start + 1 } }))?.body ?? null,
        dispose: () => {},
      },
    };
  }

  async lookup(key: string): Promise<StoredCopy | null> {
    const meta = await this.meta(key);
    return meta ? this.copy(meta) : null;
  }

  /** Make a completed, verified data object visible, and drop the version it replaces. */
  async commit(meta: StoredMeta): Promise<void> {
    const previous = await this.meta(meta.key);
    await this.bucket.put(metaKey(meta.key), "", { customMetadata: metaToRecord(meta) });
    if (previous && previous.version !== meta.version) await this.bucket.delete(dataKey(meta.key, previous.version));
  }

  async purge(key: string): Promise<void> {
    const previous = await this.meta(key);
    await this.bucket.delete(metaKey(key));
    if (previous) await this.bucket.delete(dataKey(key, previous.version));
  }
}
