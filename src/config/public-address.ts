/**
 * Whether a target URL names a private, loopback or link-local host, which a mirror on
 * the public Internet never is: sending clients (or the inventory's checks) there would
 * reach the base's or the client's own network. Literal addresses only (RFC 6890 special-
 * purpose blocks, RFC 4193 ULA, RFC 4291 link-local) and the `localhost` names of
 * RFC 6761 §6.3: a DNS name is not resolved here, so a name pointing inside is not caught.
 * Erasable TypeScript with .ts imports only (the local stack validates configs from Node).
 */
import { cidrContains, parseCidr, parseIp, type Cidr } from "../net/ip.ts";

const PRIVATE_BLOCKS: Cidr[] = [
  "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16",
  "::/128", "::1/128", "fc00::/7", "fe80::/10",
].map((c) => parseCidr(c)!);

/** Why `url`'s host is not a public one, or null. */
export function privateAddressProblem(url: string): string | null {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return null; // not a URL at all: the URL check names that
  }
  if (host === "localhost" || host.endsWith(".localhost")) return `${host} is a loopback name (set MIRRORS_ALLOW_PRIVATE=true to allow it)`;
  const ip = parseIp(host.startsWith("[") ? host.slice(1, -1) : host);
  if (!ip || !PRIVATE_BLOCKS.some((b) => cidrContains(b, ip))) return null;
  return `${host} is a private, loopback or link-local address (set MIRRORS_ALLOW_PRIVATE=true to allow it)`;
}
