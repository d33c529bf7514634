/** Content-Length (RFC 9110 §8.6) as a number, or null when absent or not a plain decimal. */
export function contentLength(headers: Pick<Headers, "get">): number | null {
  const v = headers.get("content-length");
  return v !== null && /^\d{1,15}$/.test(v.trim()) ? Number(v) : null;
}

/**
 * Whether the body carries a content coding (RFC 9110 §8.4) other than identity: workerd
 * hands JavaScript such a body decoded, so its Content-Length does not describe it.
 */
export function contentCoded(headers: Pick<Headers, "get">): boolean {
  const coding = headers.get("content-encoding")?.trim().toLowerCase();
  return !!coding && coding !== "identity";
}
