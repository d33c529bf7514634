/**
 * A sendfile target in R2, served by the node's own respondFromCopy (RFC 9110 §13
 * preconditions, §14 ranges incl. multipart/byteranges and 416, exactly as nginx): this
 * module only adapts an R2 object to the StoredCopy / BodySource it reads.
 */
import { formatHttpDate } from "../../http/http-date";
import { plain } from "../../http/plain";
import { hex, type StoredMeta } from "../../store/meta";
import { respondFromCopy } from "../../store/respond";
import type { ByteRange } from "../../http/range";
import type { StoredCopy } from "../../store/copy";
import { contentTypeByExtension } from "./content-type";

/** The stored object's own metadata, for what respondFromCopy does not set. */
export interface R2FileInfo {
  contentType: string;
  contentEncoding: string | null;
  contentDisposition: string | null;
  contentLanguage: string | null;
}

export type R2FileAnswer = { response: Response; file: R2FileInfo | null };

const CONDITIONALS = ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since"];

/**
 * `req` is GET or HEAD. A plain GET reads object and body in one R2 call; anything that
 * may not need the whole body (HEAD, Range, a condition) looks at the metadata first.
 * Every later read is pinned to the ETag seen first, so a replaced object never mixes
 * into one answer: the answer is retried once from the start, then refused with 503.
 */
export async function serveR2File(bucket: R2Bucket, key: string, req: Request, cacheStatus: string): Promise<R2FileAnswer> {
  const whole = req.method === "GET" && !CONDITIONALS.some((h) => req.headers.has(h));
  for (let attempt = 0; attempt < 2; attempt++) {
    const found = whole ? await bucket.get(key) : await bucket.head(key);
    if (!found) return { response: plain(404, "not found", { "cache-status": cacheStatus }), file: null };
    const copy = r2Copy(bucket, key, found);
    const response = await respondFromCopy(req, copy, { cacheStatus });
    if (response) return { response, file: fileInfo(found, copy.meta) };
  }
  return { response: plain(503, "the file changed while it was being read; try again", { "cache-status": cacheStatus, "retry-after": "1" }), file: null };
}

/** StoredCopy over one version of an R2 object (an R2ObjectBody's body is used first, once). */
export function r2Copy(bucket: R2Bucket, key: string, object: R2Object | R2ObjectBody): StoredCopy {
  let held: ReadableStream<Uint8Array> | null = "body" in object ? object.body : null;
  const take = () => {
    const body = held;
    held = null;
    return body;
  };
  const pinned = { etagMatches: object.etag };
  return {
    tier: "r2",
    meta: metaOf(key, object),
    body: {
      full: async () => take() ?? bodyOf(await bucket.get(key, { onlyIf: pinned })),
      range: async (r: ByteRange) => {
        void take()?.cancel().catch(() => {});
        return bodyOf(await bucket.get(key, { onlyIf: pinned, range: { offset: r.start, length: r.end - r.start + 1 } }));
      },
      dispose: () => void take()?.cancel().catch(() => {}),
    },
  };
}

/** The object's validators as the node stores them: httpEtag, upload time, size, type. */
function metaOf(key: string, o: R2Object): StoredMeta {
  const sha256 = o.checksums.sha256;
  return {
    key,
    version: o.etag,
    etag: o.httpEtag,
    // IMF-fixdate (RFC 9110 §5.6.7) in whole seconds, as If-Modified-Since compares it.
    lastModified: formatHttpDate(o.uploaded.getTime()),
    length: o.size,
    contentType: o.httpMetadata?.contentType ?? contentTypeByExtension(key),
    cacheControl: o.httpMetadata?.cacheControl ?? null,
    // Repr-Digest (RFC 9530) only when the uploader gave R2 a SHA-256 to check.
    sha256: sha256 ? hex(new Uint8Array(sha256)) : "",
    storedAt: o.uploaded.getTime(),
  };
}

function fileInfo(o: R2Object, meta: StoredMeta): R2FileInfo {
  return {
    contentType: meta.contentType ?? "application/octet-stream",
    contentEncoding: o.httpMetadata?.contentEncoding ?? null,
    contentDisposition: o.httpMetadata?.contentDisposition ?? null,
    contentLanguage: o.httpMetadata?.contentLanguage ?? null,
  };
}

/** null when the object is gone or no longer the pinned version (R2 then returns no body). */
function bodyOf(o: R2Object | R2ObjectBody | null): ReadableStream<Uint8Array> | null {
  return o && "body" in o ? o.body : null;
}
