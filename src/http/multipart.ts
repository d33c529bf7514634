/**
 * multipart/byteranges framing (RFC 9110 §14.6), byte for byte what nginx's
 * range filter sends for a multi-range 206, except for the boundary value.
 *
 * nginx's body (checked by scripts/nginx-oracle/check-range.mjs):
 *
 *   CRLF "--" BOUNDARY CRLF
 *   ["Content-Type: " TYPE CRLF]            only when the entity has a type
 *   "Content-Range: bytes " S "-" E "/" LEN CRLF
 *   CRLF
 *   <bytes S..E>
 *   ... repeated for every range, in request order ...
 *   CRLF "--" BOUNDARY "--" CRLF
 *
 * so every part head starts with the CRLF that ends the previous part's data
 * (the first one is an empty preamble line), and the close delimiter is
 * followed by a CRLF. The response Content-Type is
 * "multipart/byteranges; boundary=BOUNDARY" and Content-Length is exact.
 */

import type { ByteRange } from "./range";

export interface MultipartPart {
  /** Bytes to write before the range data. */
  head: Uint8Array;
  range: ByteRange;
}

export interface MultipartPlan {
  /** Value of the response Content-Type. */
  contentType: string;
  /** Exact number of body bytes: heads + ranges + tail. */
  contentLength: number;
  parts: MultipartPart[];
  /** Bytes to write after the last range's data. */
  tail: Uint8Array;
}

const CRLF = "\r\n";
/** nginx prints its boundary as a zero-padded 20 digit number (NGX_ATOMIC_T_LEN). */
const BOUNDARY_DIGITS = 20;
const BOUNDARY_MODULUS = 10n ** BigInt(BOUNDARY_DIGITS);

/**
 * A boundary shaped like nginx's: 20 decimal digits, zero padded. With a
 * seed (a non-negative integer) the value is that number, which keeps tests
 * deterministic; without one it is 64 random bits from crypto.getRandomValues.
 */
export function multipartBoundary(seed?: number): string {
  let value: bigint;
  if (seed !== undefined && Number.isFinite(seed)) {
    value = BigInt(Math.floor(Math.abs(seed)));
  } else {
    const words = crypto.getRandomValues(new Uint32Array(2));
    value = (BigInt(words[0] ?? 0) << 32n) | BigInt(words[1] ?? 0);
  }
  return (value % BOUNDARY_MODULUS).toString().padStart(BOUNDARY_DIGITS, "0");
}

/**
 * Header text as bytes the way nginx writes it: each character up to U+00FF is
 * one byte (Fetch exposes header bytes as Latin-1 characters); any character
 * above that is written as UTF-8.
 */
function headerBytes(text: string): Uint8Array {
  const out: number[] = [];
  const utf8 = new TextEncoder();
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp <= 0xff) out.push(cp);
    else out.push(...utf8.encode(ch));
  }
  return Uint8Array.from(out);
}

/**
 * Plans a multipart/byteranges body for `ranges` (already validated by
 * decideRange: inside [0, length)) of an entity of `length` bytes.
 * A caller streams: for each part `head` then the range's bytes, then `tail`.
 */
export function multipartPlan(
  ranges: ByteRange[],
  length: number,
  contentType: string | null,
  boundary: string,
): MultipartPlan {
  const typeLine = contentType ? `Content-Type: ${contentType}${CRLF}` : "";
  let contentLength = 0;
  const parts = ranges.map((range): MultipartPart => {
    const head = headerBytes(
      `${CRLF}--${boundary}${CRLF}${typeLine}` +
        `Content-Range: bytes ${range.start}-${range.end}/${length}${CRLF}${CRLF}`,
    );
    contentLength += head.byteLength + (range.end - range.start + 1);
    return { head, range };
  });
  const tail = headerBytes(`${CRLF}--${boundary}--${CRLF}`);
  contentLength += tail.byteLength;
  return {
    contentType: `multipart/byteranges; boundary=${boundary}`,
    contentLength,
    parts,
    tail,
  };
}
