/**
 * Cache-Status response field (RFC 9211): one list member for this cache,
 * serialized as an RFC 8941 Structured Field.
 *
 *   Cache-Status = sf-list; member = cache identifier (sf-token or
 *   sf-string) with parameters (§2.1-§2.8): hit, fwd, fwd-status, ttl,
 *   stored, collapsed, key, detail.
 *
 * Booleans are only emitted when true (as a bare key, RFC 8941 §4.1.1.2).
 * Integers outside RFC 8941's ±999,999,999,999,999 are clamped, fractions
 * truncated, non-finite numbers omitted. An sf-string can only carry
 * printable ASCII (§3.3.3): any other character is replaced by "?".
 */

/** §2.2 forward reasons. */
export type CacheForwardReason =
  | "bypass" | "method" | "uri-miss" | "vary-miss" | "miss" | "request" | "stale" | "partial";

export interface CacheStatusParams {
  /** §2.1 served from cache without contacting the next hop. */
  hit?: boolean;
  /** §2.2 why the request went forward. */
  fwd?: CacheForwardReason;
  /** §2.3 status the next hop answered. */
  fwdStatus?: number;
  /** §2.4 remaining freshness in seconds (negative when stale). */
  ttl?: number;
  /** §2.5 the forwarded response was stored. */
  stored?: boolean;
  /** §2.6 the request was collapsed with another one. */
  collapsed?: boolean;
  /** §2.7 the cache key. */
  key?: string;
  /** §2.8 implementation-specific detail. */
  detail?: string;
}

const MAX_SF_INTEGER = 999_999_999_999_999;
/** RFC 8941 §3.3.4 sf-token: ( ALPHA / "*" ) *( tchar / ":" / "/" ). */
const SF_TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;

/** RFC 8941 §4.1.6 sf-string serialization. */
export function sfString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x20 || cp > 0x7e) out += "?";
    else if (ch === '"' || ch === "\\") out += "\\" + ch;
    else out += ch;
  }
  return out + '"';
}

/** An sf-token when `value` is one (§4.1.7), otherwise an sf-string. */
export function sfTokenOrString(value: string): string {
  return SF_TOKEN.test(value) ? value : sfString(value);
}

/** RFC 8941 §4.1.4 sf-integer serialization; undefined for non-finite input. */
export function sfInteger(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  const n = Math.trunc(value);
  return String(Math.max(-MAX_SF_INTEGER, Math.min(MAX_SF_INTEGER, n)) || 0);
}

/**
 * The Cache-Status member for cache `node`, e.g.
 * `node-a; hit; ttl=30; detail=cache-api` or
 * `node-a; fwd=miss; fwd-status=200; stored; detail=r2`.
 */
export function cacheStatus(node: string, p: CacheStatusParams): string {
  const params: string[] = [];
  if (p.hit) params.push("hit");
  if (p.fwd !== undefined) params.push(`fwd=${p.fwd}`);
  const fwdStatus = p.fwdStatus === undefined ? undefined : sfInteger(p.fwdStatus);
  if (fwdStatus !== undefined) params.push(`fwd-status=${fwdStatus}`);
  const ttl = p.ttl === undefined ? undefined : sfInteger(p.ttl);
  if (ttl !== undefined) params.push(`ttl=${ttl}`);
  if (p.stored) params.push("stored");
  if (p.collapsed) params.push("collapsed");
  if (p.key !== undefined) params.push(`key=${sfString(p.key)}`);
  if (p.detail !== undefined) params.push(`detail=${sfTokenOrString(p.detail)}`);
  return [sfTokenOrString(node), ...params].join("; ");
}
