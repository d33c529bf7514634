/**
 * The one forwarding policy: the headers a request carries from a client to anything
 * behind the base — the origin on the base's own pass-through (src/base/serve-locally.ts)
 * and a proxy route's backends (src/proxy/proxy.ts) — and back. Pure: no platform calls.
 *
 * Request side: hop-by-hop fields removed (RFC 9110 §7.6.1, including those named in
 * Connection), then who asked, for whom:
 * - Every client-sent claim about the client's address or the request's public scheme,
 *   host or port (CLIENT_CLAIMS: Forwarded, X-Real-IP, True-Client-IP, X-Forwarded-*,
 *   ...) is dropped: nothing vouches for them (issue #11 L5). What replaces them is
 *   computed here, so the origin and the backends see one story.
 * - X-Forwarded-For: the client is CF-Connecting-IP (the peer Cloudflare saw). A chain the
 *   client sent is kept only as far as it was written by proxies we trust: walking from
 *   the right, an entry is believed only when the hop to its right is a trusted proxy
 *   (RFC 7239 §5.2 / §8.3 spirit: everything left of the first untrusted hop is forgeable).
 *   Without trusted proxies (the base's pass-through) it is the peer alone.
 * - X-Forwarded-Proto / X-Forwarded-Host: from the public URL, never from the client; none
 *   at all without a configured public URL (publicOrigin "", issue #11 L3).
 * - Forwarded (RFC 7239 §4), when asked for: one `for=` element per kept hop, this proxy's
 *   `proto` and `host` on the last one (when known); IPv6 quoted (`for="[2001:db8::1]"`).
 * Response side: hop-by-hop fields removed; everything else kept.
 */
import { connectionOptions, dropHopByHop, HOP_BY_HOP_HEADERS } from "./hop-by-hop";
import { cidrContains, parseIp, type Cidr } from "../net/ip";

/**
 * Client-sent fields that claim who the client is or how it reached us. Some are set by
 * CDNs and load balancers in front of other servers (Akamai's True-Client-IP, Fastly's
 * Fastly-Client-IP, nginx's X-Real-IP, Rails' Client-IP...), so an origin may believe them;
 * coming from a client they are forged. X-Forwarded-For/-Host/-Proto are recomputed.
 */
export const CLIENT_CLAIMS: readonly string[] = [
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-server",
  "x-forwarded-scheme",
  "x-forwarded-ssl",
  "x-forwarded",
  "forwarded-for",
  "x-original-forwarded-for",
  "x-real-ip",
  "true-client-ip",
  "x-client-ip",
  "x-cluster-client-ip",
  "client-ip",
  "fastly-client-ip",
  "cf-connecting-ipv6",
  "cf-pseudo-ipv4",
  "x-url-scheme",
  "front-end-https",
];

export interface ForwardingOptions {
  /** The public URL's origin, e.g. "https://www.example.com"; "" = none configured. */
  publicOrigin: string;
  trustedProxies: readonly Cidr[];
  /** Emit RFC 7239 Forwarded. */
  forwarded: boolean;
}

/**
 * Never copied upstream: hop-by-hop fields (RFC 9110 §7.6.1), Host (the fetch URL's
 * business, see proxy.ts), every client claim, and CF-Connecting-IP (Cloudflare's own
 * view of the client: the upstream gets it as X-Forwarded-For instead).
 */
const NOT_FORWARDED: ReadonlySet<string> = new Set([...HOP_BY_HOP_HEADERS, ...CLIENT_CLAIMS, "host", "cf-connecting-ip"]);

/** Headers for the upstream request (Host is the fetch URL's business, see proxy.ts). */
export function upstreamHeaders(incoming: Headers, options: ForwardingOptions): Headers {
  // One pass over the names the client sent (lowercased), deleting only those present,
  // instead of ~25 deletes by name on every request. Measured in workerd: a native copy
  // then these few deletes beats building a new Headers field by field (append: ~20%
  // slower; from an array of pairs: ~2.5x), as each call crosses into the runtime.
  // The names also say which fields are worth a get() (each one crosses too).
  const names = [...incoming.keys()];
  const named = names.includes("connection") ? connectionOptions(incoming) : [];
  const out = new Headers(incoming);
  for (const name of names) {
    if (NOT_FORWARDED.has(name) || named.includes(name)) out.delete(name);
  }
  const peer = names.includes("cf-connecting-ip") ? incoming.get("cf-connecting-ip")!.trim() || null : null;
  const chain = forwardedChain(names.includes("x-forwarded-for") ? incoming.get("x-forwarded-for") : null, peer, options.trustedProxies);
  if (chain.length) out.set("x-forwarded-for", chain.join(", "));
  const pub = parsedOrigin(options.publicOrigin);
  if (pub) {
    out.set("x-forwarded-proto", pub.proto);
    out.set("x-forwarded-host", pub.host);
  }
  if (options.forwarded) out.set("forwarded", forwardedHeader(chain, pub?.proto ?? null, pub?.host ?? null));
  return out;
}

/**
 * `publicOrigin` is the configured public URL as src/config/fields.ts absoluteUrl leaves
 * it ("https://host[:port]" and maybe a path, no userinfo, query or fragment) or "".
 * The host is the authority only (RFC 3986 §3.2: it ends at the first "/", "?" or "#"):
 * a PUBLIC_URL with a path must not put its path into X-Forwarded-Host or host=.
 * Split by hand: a URL parse per request for two substrings is not worth it.
 */
function parsedOrigin(origin: string): { proto: string; host: string } | null {
  const sep = origin.indexOf("://");
  if (sep < 1) return null;
  const rest = origin.slice(sep + 3);
  const end = rest.search(/[/?#]/);
  const host = end === -1 ? rest : rest.slice(0, end);
  return host ? { proto: origin.slice(0, sep), host } : null;
}

/**
 * The backend's fields made the client's, in place on the caller's own copy (a Response
 * built with the backend's as its init has one: a second copy would cost as much again):
 * hop-by-hop fields removed, and `hidden` ones (the caller's control fields).
 */
export function toDownstream(headers: Headers, hidden?: ReadonlySet<string>): void {
  dropHopByHop(headers, hidden);
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

/** RFC 7239 §4: `for=192.0.2.1, for="[2001:db8::1]";proto=https;host=www.example.com` (proto/host when known). */
export function forwardedHeader(chain: readonly string[], proto: string | null, host: string | null): string {
  const hops = chain.length ? chain : ["unknown"]; // §6.1: the client is not known
  return hops
    .map((ip, i) => {
      const node = ip.includes(":") ? `"[${ip}]"` : ip; // §6: IPv6 in brackets, so quoted
      const params = [`for=${node}`];
      if (i === hops.length - 1) {
        if (proto) params.push(`proto=${forwardedValue(proto)}`);
        if (host) params.push(`host=${forwardedValue(host)}`);
      }
      return params.join(";");
    })
    .join(", ");
}

/** value = token / quoted-string (RFC 7239 §4, RFC 9110 §5.6.4). */
function forwardedValue(v: string): string {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v) ? v : `"${v.replace(/["\\]/g, "\\$&")}"`;
}
