import type { ByteRange } from "../../http/range";
import type { StoredMeta } from "../meta";
import type { StoredCopy } from "./tier";

/**
 * Per-colo hot tier on the Cache API. One entry per key holds a whole version; the
 * version travels in its headers and a new version replaces the entry in one put,
 * so bytes of two versions never mix (R2 data keys carry the version instead).
 */
const ORIGIN = "https://offload-node.cache.invalid";
const META_HEADER = "x-offload-meta";
const YEAR = 31_536_000;

function entryUrl(key: string): string {
  return `${ORIGIN}/o${key}`;
}
function markerUrl(key: string): string {
  return `${ORIGIN}/validated${key}`;
}

export class CacheTier {
  constructor(private readonly cache: Cache) {}

  async lookup(key: string): Promise<StoredCopy | null> {
    const res = await this.cache.match(entryUrl(key));
    if (!res) return null;
    const meta = parseMeta(res.headers.get(META_HEADER));
    if (!meta || meta.key !== key) {
      res.body?.cancel().catch(() => {});
      return null;
    }
    let held: Response | null = res;
    const take = () => {
      const r = held;
      held = null;
      return r;
    };
    return {
      tier: "cache-api",
      meta,
      body: {
        full: async () => {
          const r = take() ?? (await this.cache.match(entryUrl(key)));
          return r && sameVersion(r, meta) ? r.body : null;
        },
        range: async (range: ByteRange) => {
          take()?.body?.cancel().catch(() => {});
          const r = await this.cache.match(
            new Request(entryUrl(key), { headers: { range: `bytes=${range.start}-${range.end}` } }),
          );
          if (!r) return null;
          const expected = `bytes ${range.start}-${range.end}/${meta.length}`;
          if (!sameVersion(r, meta) || (r.status === 206 ? r.headers.get("content-range") !== expected : range.start !== 0 || range.end !== meta.length - 1)) {
            r.body?.cancel().catch(() => {});
            return null;
          }
          return r.body;
        },
        dispose: () => void take()?.body?.cancel().catch(() => {}),
      },
    };
  }

  async put(meta: StoredMeta, body: ReadableStream<Uint8Array>): Promise<void> {
    const headers = new Headers({
      "content-length": String(meta.length),
      "cache-control": `public, max-age=${YEAR}`,
      [META_HEADER]: JSON.stringify(meta),
    });
    if (meta.contentType) headers.set("content-type", meta.contentType);
    await this.cache.put(entryUrl(meta.key), new Response(body, { headers }));
  }

  /** Remember that the origin confirmed this version, for REVALIDATE_SECONDS. */
  async markValidated(key: string, version: string, seconds: number): Promise<void> {
    if (seconds <= 0) return;
    await this.cache.put(
      markerUrl(key),
      new Response(version, { headers: { "cache-control": `public, max-age=${seconds}` } }),
    );
  }

  async validatedRecently(key: string, version: string): Promise<boolean> {
    const r = await this.cache.match(markerUrl(key));
    return r !== undefined && (await r.text()) === version;
  }

  async purge(key: string): Promise<void> {
    await Promise.all([this.cache.delete(entryUrl(key)), this.cache.delete(markerUrl(key))]);
  }
}

function parseMeta(text: string | null): StoredMeta | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as StoredMeta;
  } catch {
    return null;
  }
}

function sameVersion(r: Response, meta: StoredMeta): boolean {
  return parseMeta(r.headers.get(META_HEADER))?.version === meta.version;
}
