/**
 * Content coding of a served file (RFC 9110 §8.4, §12.5.3): gzip only.
 *
 * workerd's CompressionStream accepts "gzip", "deflate" and "deflate-raw" and rejects
 * "br" (checked on workerd 1.20261102: "The compression format must be either 'deflate',
 * 'deflate-raw' or 'gzip'"), so a client that accepts only br gets identity. "deflate"
 * is not offered: clients have disagreed for decades on whether it means zlib or raw.
 */
import { isCompressibleType } from "./content-type";

/**
 * §12.5.3: whether `gzip` (or its alias `x-gzip`) is acceptable with q > 0, either named
 * or through "*" when not named. No Accept-Encoding field: we do not compress (the RFC
 * allows any coding then, but such clients are mostly tools that want the raw bytes).
 */
export function acceptsGzip(acceptEncoding: string | null): boolean {
  if (acceptEncoding === null) return false;
  let named: number | undefined;
  let any: number | undefined;
  for (const member of acceptEncoding.split(",")) {
    const [coding = "", ...params] = member.split(";").map((s) => s.trim());
    const name = coding.toLowerCase();
    if (name !== "gzip" && name !== "x-gzip" && name !== "*") continue;
    const q = qValue(params);
    if (name === "*") any = Math.max(any ?? 0, q);
    else named = Math.max(named ?? 0, q);
  }
  return (named ?? any ?? 0) > 0;
}

/** §12.4.2 weight: "q=" 0 to 1 with up to three decimals; absent = 1, malformed = 0. */
function qValue(params: string[]): number {
  const q = params.find((p) => /^q\s*=/i.test(p));
  if (q === undefined) return 1;
  const value = q.replace(/^q\s*=\s*/i, "");
  return /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value) ? Number(value) : 0;
}

/** §8.8.3: an encoded variant is not byte-identical, so its entity-tag is weak. */
export function weakEtag(etag: string): string {
  return etag.startsWith("W/") ? etag : `W/${etag}`;
}

/** Adds a member to Vary (§12.5.5) unless it is already there or Vary is "*". */
export function addVary(headers: Headers, field: string): void {
  const current = headers.get("vary");
  if (current === null) return headers.set("vary", field);
  const members = current.split(",").map((m) => m.trim().toLowerCase());
  if (!members.includes("*") && !members.includes(field.toLowerCase())) headers.set("vary", `${current}, ${field}`);
}

/** What negotiateCoding needs to know beyond the answer's own header fields. */
export interface CodingInput {
  /** The file's type; a 304 carries none, yet must describe the same variant as the 200. */
  contentType: string | null;
  /** The stored bytes already carry a content coding (R2 httpMetadata.contentEncoding). */
  preEncoded: boolean;
}

/**
 * Applies gzip to a finished answer when it may and should be: a compressible type,
 * a 200 (or the 304 / HEAD that stands for it) to a request without Range, no coding
 * yet, no Cache-Control: no-transform (RFC 9111 §5.2.2.6), and a client that accepts
 * gzip. Any 200/206/304 about a compressible type gets `Vary: Accept-Encoding`,
 * compressed or not, so caches keep the variants apart. Changes `headers` in place;
 * returns the body to send and whether this function encoded it.
 */
export function negotiateCoding(
  req: Request,
  status: number,
  headers: Headers,
  body: ReadableStream<Uint8Array> | null,
  file: CodingInput,
): { body: ReadableStream<Uint8Array> | null; encoded: boolean } {
  if (!isCompressibleType(file.contentType) || ![200, 206, 304].includes(status)) {
    return { body, encoded: false };
  }
  addVary(headers, "Accept-Encoding");
  const ok =
    status !== 206 &&
    !req.headers.has("range") &&
    !file.preEncoded &&
    !headers.has("content-encoding") &&
    !/(^|,)\s*no-transform\s*(,|$)/i.test(headers.get("cache-control") ?? "") &&
    acceptsGzip(req.headers.get("accept-encoding"));
  if (!ok) return { body, encoded: false };

  const etag = headers.get("etag");
  if (etag) headers.set("etag", weakEtag(etag));
  if (status === 304) return { body, encoded: false };
  headers.set("content-encoding", "gzip");
  headers.delete("content-length");
  headers.delete("accept-ranges"); // byte ranges of a gzip stream made on the fly cannot be served
  headers.delete("repr-digest"); // RFC 9530 §2: it described the identity bytes
  return { body: body?.pipeThrough(new CompressionStream("gzip")) ?? null, encoded: true };
}
