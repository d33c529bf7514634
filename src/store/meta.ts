/**
 * What the node knows about one stored copy, and how it travels in R2 custom
 * metadata and in Cache API response headers.
 */

export interface OriginHead {
  etag: string | null;
  lastModified: string | null;
  length: number | null;
  contentType: string | null;
  cacheControl: string | null;
}

export interface StoredMeta {
  /** Cache key: canonical path, plus "?query" when the query is keyed. */
  key: string;
  /** Short hash of the validators + length: part of every R2 data key. */
  version: string;
  etag: string | null;
  lastModified: string | null;
  length: number;
  contentType: string | null;
  cacheControl: string | null;
  /** Hex SHA-256 of the whole body; "" until known (a fill of slices hashes after the last one). */
  sha256: string;
  /** When the copy was stored (ms since epoch). */
  storedAt: number;
  /**
   * Chunked layout (store/layout.ts): bytes per chunk and the id of the fill that wrote
   * them, both part of every chunk's name. Absent on copies stored before chunking: those
   * are one R2 object at dataKey() and stay servable as they are.
   */
  chunkSize?: number;
  fill?: string;
}

/** A head is storable when it names a validator and a length (RFC 9110 §8.8, §8.6). */
export function isStorable(h: OriginHead): h is OriginHead & { length: number } {
  return (h.etag !== null || h.lastModified !== null) && h.length !== null;
}

/** R2's limit on an object's custom metadata (keys and values, in bytes). */
const R2_METADATA_MAX_BYTES = 8192;

/**
 * Whether a copy of `key` described by `head` can be stored: its pointer carries the meta
 * as R2 custom metadata, so headers longer than R2 allows (a huge ETag or Cache-Control)
 * would make every commit fail. Measured with every later field at its longest.
 */
export function fitsInMetadata(key: string, head: OriginHead & { length: number }): boolean {
  const longest: StoredMeta = { key, version: "0".repeat(20), ...head, sha256: "0".repeat(64), storedAt: 8.64e15, chunkSize: Number.MAX_SAFE_INTEGER, fill: "0".repeat(16) };
  let bytes = 0;
  for (const [k, v] of Object.entries(metaToRecord(longest))) bytes += new TextEncoder().encode(k + v).byteLength;
  return bytes <= R2_METADATA_MAX_BYTES;
}

export async function versionOf(h: OriginHead): Promise<string> {
  const text = `${h.etag ?? ""}\n${h.lastModified ?? ""}\n${h.length ?? ""}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return hex(new Uint8Array(digest)).slice(0, 20);
}

export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function metaToRecord(m: StoredMeta): Record<string, string> {
  return { meta: JSON.stringify(m) };
}

/** The meta text of a pointer's record (R2 custom metadata), when it has one. */
export function metaTextOf(r: Record<string, string> | undefined): string | null {
  return r?.["meta"] || null;
}

/**
 * The meta of a pointer's record, parsed for this caller alone (the tiers read through
 * meta-memo.ts `metaOf`).
 * @internal exported for the tests that read R2 pointers themselves.
 */
export function metaFromRecord(r: Record<string, string> | undefined): StoredMeta | null {
  const text = metaTextOf(r);
  return text ? parseMeta(text) : null;
}

/** A meta from its JSON text (metaToRecord's, or a Cache API pointer's header); null when it is not one. */
export function parseMeta(text: string): StoredMeta | null {
  try {
    const m = JSON.parse(text) as StoredMeta;
    if (typeof m.version !== "string" || typeof m.length !== "number") return null;
    // Both or neither: a chunked meta names its chunks by size and fill id.
    if ((m.chunkSize === undefined) !== (m.fill === undefined)) return null;
    return m;
  } catch {
    return null;
  }
}

/** Two heads describe the same representation (used when an origin ignores conditionals). */
export function sameRepresentation(m: StoredMeta, h: OriginHead): boolean {
  if (h.etag !== null || m.etag !== null) return h.etag === m.etag && (h.length === null || h.length === m.length);
  return h.lastModified === m.lastModified && h.length === m.length;
}

/** Same version and fill id: the same chunk names (a copy stored before chunking has no fill). */
export function sameFill(a: Pick<StoredMeta, "version" | "fill">, b: Pick<StoredMeta, "version" | "fill">): boolean {
  return a.version === b.version && (a.fill ?? null) === (b.fill ?? null);
}
