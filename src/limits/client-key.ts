import { cidrContains, parseIp, type Cidr, type Ip } from "../net/ip";

/**
 * Who a client is, for the accelerator guard: CF-Connecting-IP as Cloudflare sets it
 * (the local stack's edge front sets it from the TCP peer). IPv6 clients are grouped by
 * /64, the smallest prefix a subscriber usually gets (RFC 6177), so rotating through
 * addresses of one's own /64 does not multiply the allowance.
 */
export function clientOf(headers: Headers): { key: string; ip: Ip | undefined } {
  const raw = headers.get("cf-connecting-ip")?.trim() ?? "";
  const ip = parseIp(raw);
  if (!ip) return { key: "unknown", ip: undefined };
  if (ip.family === 4) return { key: raw, ip };
  const prefix = ip.value >> 64n;
  const groups: string[] = [];
  for (let i = 3; i >= 0; i--) groups.push(((prefix >> BigInt(i * 16)) & 0xffffn).toString(16));
  return { key: `${groups.join(":")}::/64`, ip };
}

export function isAllowlisted(ip: Ip | undefined, allowlist: readonly Cidr[]): boolean {
  return ip !== undefined && allowlist.some((c) => cidrContains(c, ip));
}
