/**
 * Headers between the client and a backend, both ways. Pure: no platform calls.
 *
 * Request side: hop-by-hop fields removed (RFC 9110 §7.6.1, including those named in
 * Connection), then who asked, for whom:
 * - X-Forwarded-For: the client is CF-Connecting-IP (the peer Cloudflare saw). A chain the
 *   client sent is kept only as far as it was written by proxies we trust: walking from
 *   the right, an entry is believed only when the hop to its right is a trusted proxy
 *   (RFC 7239 §5.2 / §8.3 spirit: everything left of the first untrusted hop is forgeable).
 * - X-Forwarded-Proto / X-Forwarded-Host: from the public URL, never from the client.
 * - Forwarded (RFC 7239 §4), when the route asks for it: one `for=` element per kept hop,
 *   this proxy's `proto` and `host` on the last one; IPv6 quoted (`for="[2001:db8::1]"`).
 * Client-sent Forwarded and X-Real-IP are dropped: nothing vouches for them.
 * Response side: hop-by-hop fields removed; everything else kept.
 */
import { stripHopByHop } from "../http/hop-by-hop";
import { cidrContains, parseIp, type Cidr } from "../net/ip";

export interface ForwardingOptions {
  /** The public URL's origin, e.g. "https://www.example.com". */
  publicOrigin: string;
  trustedProxies: readonly Cidr[];
  /** Emit RFC 7239 Forwarded. */
  forwarded: boolean;
}

/** Headers for the upstream request (Host is the fetch URL's business, see proxy.ts). */
export function upstreamHeaders(incoming: Headers, options: ForwardingOptions): Headers {
  const out = stripHopByHop(incoming);
  out.delete("host");
  out.delete("forwarded");
  out.delete("x-real-ip");
  // Cloudflare's own view of the client: the backend gets it as X-Forwarded-For instead.
  out.delete("cf-connecting-ip");
  const peer = incoming.get("cf-connecting-ip")?.trim() || null;
  const chain = forwardedChain(incoming.get("x-forwarded-for"), peer, options.trustedProxies);
  if (chain.length) out.set("x-forwarded-for", chain.join(", "));
  else out.delete("x-forwarded-for");
  const pub = parsedOrigin(options.publicOrigin);
  const proto = pub.proto;
  out.set("x-forwarded-proto", proto);
  out.set("x-forwarded-host", pub.host);
  if (options.forwarded) out.set("forwarded", forwardedHeader(chain, proto, pub.host));
  return out;
}

/** `publicOrigin` is a URL origin ("https://host[:port]"): split it without a URL parse per request. */
function parsedOrigin(origin: string): { proto: string; host: string } {
  const sep = origin.indexOf("://");
  return { proto: origin.slice(0, sep), host: origin.slice(sep + 3) };
}

/** Headers for the client: the backend's, without hop-by-hop fields. */
export function downstreamHeaders(backend: Headers): Headers {
  return stripHopByHop(backend);
}

/**
 * The hops to report, client first, the peer last. `xff` is what the client sent; its
 * entries are believed right to left while the hop that wrote each one (the entry to its
 * right, the peer for the last) is trusted. The first untrusted hop ends the walk: it is
 * the client as far as anyone can tell, and what it claims about earlier hops is dropped.
 * An entry that is not an IP address also ends the walk (and is dropped).
 */
export function forwardedChain(xff: string | null, peer: string | null, trusted: readonly Cidr[]): string[] {
  if (!peer) return [];
  const claimed = (xff ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  // Cloudflare may already have appended the peer itself; count it once.
  if (claimed[claimed.length - 1] === peer) claimed.pop();
  const kept: string[] = [];
  let writer = peer;
  for (let i = claimed.length - 1; i >= 0 && isTrusted(writer, trusted); i--) {
    const hop = normaliseIp(claimed[i]!);
    if (!hop) break;
    kept.unshift(hop);
    writer = hop;
  }
  return [...kept, peer];
}

function isTrusted(ip: string, trusted: readonly Cidr[]): boolean {
  const parsed = parseIp(ip);
  return !!parsed && trusted.some((c) => cidrContains(c, parsed));
}

/** An X-Forwarded-For entry as an address ("[2001:db8::1]:443" and "192.0.2.1:80" lose the port), or null. */
function normaliseIp(entry: string): string | null {
  let s = entry;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  return parseIp(s) ? s : null;
}

/** RFC 7239 §4: `for=192.0.2.1, for="[2001:db8::1]";proto=https;host=www.example.com`. */
export function forwardedHeader(chain: readonly string[], proto: string, host: string): string {
  const hops = chain.length ? chain : ["unknown"]; // §6.1: the client is not known
  return hops
    .map((ip, i) => {
      const node = ip.includes(":") ? `"[${ip}]"` : ip; // §6: IPv6 in brackets, so quoted
      const params = [`for=${node}`];
      if (i === hops.length - 1) params.push(`proto=${forwardedValue(proto)}`, `host=${forwardedValue(host)}`);
      return params.join(";");
    })
    .join(", ");
}

/** value = token / quoted-string (RFC 7239 §4, RFC 9110 §5.6.4). */
function forwardedValue(v: string): string {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v) ? v : `"${v.replace(/["\\]/g, "\\$&")}"`;
}
