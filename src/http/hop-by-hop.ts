/**
 * Hop-by-hop header removal (RFC 9110 §7.6.1): a proxy must not forward
 * connection-specific fields. Removed: Connection itself, every field named
 * as a connection-option in Connection, and the fields that are hop-by-hop
 * by definition: Keep-Alive, Proxy-Connection (non-standard, still sent by
 * some clients), TE (§10.1.4), Trailer (§6.6.2), Transfer-Encoding (RFC 9112
 * §6.1), Upgrade (§7.8), Proxy-Authenticate / Proxy-Authorization (§11.7).
 */

export const HOP_BY_HOP_HEADERS: readonly string[] = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
];

/** tchar (RFC 9110 §5.6.2): a connection-option must be a field-name token. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Field names listed in Connection (§7.6.1), lowercased; invalid members skipped. */
export function connectionOptions(headers: Headers): string[] {
  const value = headers.get("Connection");
  if (value === null) return [];
  return value
    .split(",")
    .map((o) => o.trim().toLowerCase())
    .filter((o) => TOKEN.test(o));
}

/** A copy of `headers` without hop-by-hop fields; the input is not modified. */
export function stripHopByHop(headers: Headers): Headers {
  const out = new Headers(headers);
  dropHopByHop(out);
  return out;
}

const HOP_BY_HOP: ReadonlySet<string> = new Set(HOP_BY_HOP_HEADERS);

/**
 * Deletes from `headers`, in place, the hop-by-hop fields and any field named in `also`
 * (lowercase): one pass over the names present, then a delete for each one found, instead
 * of a delete per name we know (each call crosses into the runtime).
 */
export function dropHopByHop(headers: Headers, also?: ReadonlySet<string>): void {
  const found: string[] = [];
  for (const name of headers.keys()) {
    if (isHopByHop(name, also)) found.push(name);
  }
  if (found.length === 0) return;
  // Before Connection goes: the fields it names go with it.
  if (found.includes("connection")) found.push(...connectionOptions(headers));
  for (const name of found) headers.delete(name);
}

/** Whether dropHopByHop removes a field of this (lowercase) name, besides those named in Connection (only there with Connection itself). */
export function isHopByHop(name: string, also?: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || (also?.has(name) ?? false);
}
