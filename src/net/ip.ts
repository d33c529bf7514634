/**
 * IPv4/IPv6 addresses and CIDR blocks as bigints (no platform calls; also used by Node scripts).
 *
 * One address, one identity: every spelling of an address parses to the same `Ip`, so a
 * limiter or allowlist keyed on it cannot be dodged by re-spelling (issue #11 L9).
 * - IPv4 is the dotted-decimal form of RFC 6943 §3.1.1 ("strict" inet_pton): four decimal
 *   octets without leading zeros. `010.0.0.1` is refused, not read: inet_aton reads it as
 *   octal (8.0.0.1) and others as decimal (10.0.0.1), so any reading would disagree with
 *   some other component.
 * - IPv6 is RFC 4291 §2.2 text (any case, leading zeros in groups, `::`, a dotted tail).
 * - An IPv4-mapped IPv6 address (::ffff:0:0/96, RFC 4291 §2.5.5.2) is the IPv4 address it
 *   maps: dual-stack sockets report IPv4 peers that way.
 * `formatIp` prints the one canonical text: dotted decimal, or RFC 5952 for IPv6.
 */

export interface Cidr {
  readonly family: 4 | 6;
  /** Network address as a big-endian bit string length 32 or 128, stored as bigint. */
  readonly network: bigint;
  readonly prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const [addr, len, extra] = text.split("/");
  if (extra !== undefined || addr === undefined) return undefined;
  const ip = parseIpAsWritten(addr);
  if (!ip) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = len === undefined ? bits : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  // A block inside ::ffff:0:0/96 is the IPv4 block it maps (addresses parse that way too).
  if (ip.family === 6 && prefix >= 96 && isMapped(ip.value)) {
    return { family: 4, network: maskBits(ip.value & V4_MASK, 32, prefix - 96), prefix: prefix - 96 };
  }
  return { family: ip.family, network: maskBits(ip.value, bits, prefix), prefix };
}

export interface Ip {
  readonly family: 4 | 6;
  readonly value: bigint;
}

const V4_MASK = 0xffff_ffffn;

function isMapped(v6: bigint): boolean {
  return v6 >> 32n === 0xffffn;
}

/** The canonical `Ip` of an address text, or undefined when it is not one (see the top). */
export function parseIp(text: string): Ip | undefined {
  const ip = parseIpAsWritten(text);
  return ip?.family === 6 && isMapped(ip.value) ? { family: 4, value: ip.value & V4_MASK } : ip;
}

/** Octet without leading zeros (RFC 6943 §3.1.1): "0".."255". */
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)";
const DOTTED = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

function parseIpAsWritten(text: string): Ip | undefined {
  if (DOTTED.test(text)) {
    // Octets summed as a plain number (below 2^32, exact), one bigint at the end: a bigint
    // per octet cost measurably on every request (the guard and the recorder each parse
    // the client's address: issue #13).
    let v = 0;
    for (const octet of text.split(".")) v = v * 256 + Number(octet);
    return { family: 4, value: BigInt(v) };
  }
  return parseIpv6(text);
}

/** Canonical text: dotted decimal for IPv4, RFC 5952 §4 for IPv6 (lower case, no leading
 * zeros, the longest run of two or more zero groups as "::", the first one on a tie). */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    const v = Number(ip.value); // below 2^32: exact, and >>> reads it as unsigned 32 bits
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestAt = -1;
  let bestLen = 1; // a single zero group is not shortened (RFC 5952 §4.2.2)
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j > i ? j : i + 1;
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(":");
  if (bestAt < 0) return hex(groups);
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`;
}

function parseIpv6(text: string): Ip | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":") || text.split("::").length > 2) return undefined;
  let tail = text;
  let v4: bigint[] = [];
  // IPv4-mapped/embedded tail (e.g. ::ffff:192.0.2.1) counts as two groups.
  const dotted = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted?.[1]) {
    const ip4 = parseIpAsWritten(dotted[1]);
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

/**
 * An address is only ever in a block of its own family. IPv4-mapped blocks and addresses
 * are already IPv4 (parseCidr, parseIp), so "::ffff:10.0.0.0/104" covers 10.1.2.3; but an
 * IPv6 block such as "::/0" or "::/64" covers no IPv4 client: operators write those for
 * IPv6 clients, and widening them would, for a proxy route's trustedProxies, trust every
 * IPv4 client's X-Forwarded-For.
 */
export function cidrContains(cidr: Cidr, ip: Ip): boolean {
  if (cidr.family !== ip.family) return false;
  return maskBits(ip.value, cidr.family === 4 ? 32 : 128, cidr.prefix) === cidr.network;
}
