/** IPv4/IPv6 addresses and CIDR blocks as bigints (no platform calls; also used by Node scripts). */

export interface Cidr {
  readonly family: 4 | 6;
  /** Network address as a big-endian bit string length 32 or 128, stored as bigint. */
  readonly network: bigint;
  readonly prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr, len, extra] = text.split("/");
  if (extra !== undefined || addr === undefined) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = len === undefined ? bits : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  return { family: ip.family, network: maskBits(ip.value, bits, prefix), prefix };
}

export interface Ip {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export function parseIp(text: string): Ip | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split(".").map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return { family: 4, value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n) };
  }
  return parseIpv6(text);
}

function parseIpv6(text: string): Ip | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split("::").length > 2) return undefined;
  let tail = text;
  let v4: bigint[] = [];
  // IPv4-mapped/embedded tail (e.g. ::ffff:192.0.2.1) counts as two groups.
  const dotted = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted?.[1]) {
    const ip4 = parseIp(dotted[1]);
    if (!ip4 || ip4.family !== 4) return undefined;
    v4 = [ip4.value >> 16n, ip4.value & 0xffffn];
    tail = text.slice(0, text.length - dotted[1].length) + "0:0";
    v4.length = 2;
  }
  const [head, rest] = tail.includes("::") ? tail.split("::") : [tail, undefined];
  const groups = (s: string | undefined) => (s ? s.split(":") : []);
  const h = groups(head);
  const r = groups(rest);
  if ([...h, ...r].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const missing = 8 - h.length - r.length;
  if (rest === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...h, ...Array<string>(rest === undefined ? 0 : missing).fill("0"), ...r].map((g) => BigInt(parseInt(g, 16)));
  if (v4.length === 2) {
    all[6] = v4[0] as bigint;
    all[7] = v4[1] as bigint;
  }
  return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | g, 0n) };
}

export function maskBits(value: bigint, bits: number, prefix: number): bigint {
  if (prefix === 0) return 0n;
  const keep = ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return value & keep;
}

export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  if (cidr.family !== ip.family) return false;
  return maskBits(ip.value, ip.family === 4 ? 32 : 128, cidr.prefix) === cidr.network;
}
