import { cidrContains, formatIp, maskBits, parseIp, type Cidr, type Ip } from "../net/ip";

/** The header Cloudflare sets on every request from outside to the client's address. */
export const CLIENT_IP_HEADER = "CF-Connecting-IP";

export interface ClientIdentity {
  /**
   * Limiter bucket and token binding: the canonical address (net/ip.ts), IPv6 as its /64.
   * Without a usable address, a key of this request alone (never shared, never equal to
   * a signed one), so no two unidentified clients ever share a bucket or a token.
   */
  key: string;
  ip: Ip | undefined;
  /** Why the client has no address (one line naming the header); undefined when it has one. */
  unidentified?: string;
}

/**
 * Who a client is, for the accelerator guard and token binding: CF-Connecting-IP as
 * Cloudflare sets it (the local stack's edge front sets it from the TCP peer).
 * - Every spelling of one address is one key: `010.0.0.1` is refused, `::ffff:10.0.0.1`
 *   is 10.0.0.1, IPv6 case and zero compression are canonical (RFC 5952).
 * - IPv6 clients are grouped by /64, the smallest prefix a subscriber usually gets
 *   (RFC 6177), so rotating through addresses of one's own /64 does not multiply the
 *   allowance; IPv4-mapped clients are IPv4 clients, one address each.
 * - Cloudflare always sets the header, so a request without one (or with two, or with
 *   garbage) did not come through Cloudflare: it gets no shared "unknown" bucket but an
 *   identity of its own plus the reason, and the guard refuses its counted downloads (400).
 */
export function clientOf(headers: Headers): ClientIdentity {
  const raw = headers.get(CLIENT_IP_HEADER);
  const ip = raw === null ? undefined : parseIp(raw.trim());
  if (!ip) {
    const unidentified = raw === null ? `no ${CLIENT_IP_HEADER} header` : `${CLIENT_IP_HEADER} is not one IP address`;
    return { key: `unidentified ${crypto.randomUUID()}`, ip: undefined, unidentified };
  }
  return { key: keyOf(ip), ip };
}

function keyOf(ip: Ip): string {
  return ip.family === 4 ? formatIp(ip) : `${formatIp({ family: 6, value: maskBits(ip.value, 128, 64) })}/64`;
}

/** The client's key when the request names its address (CF-Connecting-IP), else null. */
function clientKey(headers: Headers): string | null {
  const raw = headers.get(CLIENT_IP_HEADER);
  const ip = raw === null ? undefined : parseIp(raw.trim());
  return ip ? keyOf(ip) : null;
}

/**
 * The client of an answer as the offload totals take it (stats/recorder.ts): the address
 * as sent, and its key, parsed only when asked (the recorder asks once per client and isolate).
 */
export function clientOfAnswer(headers: Headers): { address: string | null; key: () => string | null } {
  return { address: headers.get(CLIENT_IP_HEADER), key: () => clientKey(headers) };
}

export function isAllowlisted(ip: Ip | undefined, allowlist: readonly Cidr[]): boolean {
  return ip !== undefined && allowlist.some((c) => cidrContains(c, ip));
}
