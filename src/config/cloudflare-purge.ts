/**
 * The Cloudflare cache purge API, for an admin purge to clear what Cloudflare's CDN holds
 * of the purged URLs too (README "Purge"). Optional: CF_API_TOKEN (a secret with the
 * zone's Cache Purge permission) and CF_ZONE_ID, both or neither; without them nothing
 * is ever sent to Cloudflare's API. Erasable TypeScript (the local stack validates it).
 */
import { absoluteUrl, ConfigError, raw, type RawVars } from "./fields.ts";

export const CLOUDFLARE_PURGE_VAR_NAMES = ["CF_ZONE_ID", "CF_PURGE_HOSTS", "CF_API_BASE"] as const;
const API_BASE = "https://api.cloudflare.com/client/v4";

export interface CloudflarePurgeConfig {
  /** api.cloudflare.com, or a local server standing in for it in tests (http only on loopback). */
  apiBase: string;
  zoneId: string;
  apiToken: string;
  /** Host names whose cached URLs a purge clears: the nodes' and the public URL's, or CF_PURGE_HOSTS. */
  hosts: string[];
}

/** `siteUrls`: the URLs clients download from (the nodes, PUBLIC_URL), for the default host list. */
export function parseCloudflarePurge(vars: RawVars, siteUrls: string[]): CloudflarePurgeConfig | null {
  const apiToken = raw(vars, "CF_API_TOKEN");
  const zoneId = raw(vars, "CF_ZONE_ID");
  if (apiToken === undefined && zoneId === undefined) {
    for (const field of ["CF_PURGE_HOSTS", "CF_API_BASE"]) {
      if (raw(vars, field) !== undefined) throw new ConfigError(field, "is set, but CF_API_TOKEN and CF_ZONE_ID are not (both are needed for Cloudflare purges)");
    }
    return null;
  }
  if (apiToken === undefined) throw new ConfigError("CF_API_TOKEN", "is required with CF_ZONE_ID (wrangler secret put CF_API_TOKEN)");
  if (zoneId === undefined) throw new ConfigError("CF_ZONE_ID", "is required with CF_API_TOKEN (the zone id from the dashboard's overview)");
  // Never echo a secret in an error: say what it must look like.
  if (!/^[A-Za-z0-9_-]{20,200}$/.test(apiToken)) throw new ConfigError("CF_API_TOKEN", "is not an API token (20-200 letters, digits, - and _)");
  if (!/^[0-9a-f]{32}$/.test(zoneId)) throw new ConfigError("CF_ZONE_ID", `"${zoneId}" is not a zone id (32 lowercase hex digits)`);
  return { apiBase: apiBase(vars), zoneId, apiToken, hosts: hosts(vars, siteUrls) };
}

function apiBase(vars: RawVars): string {
  if (raw(vars, "CF_API_BASE") === undefined) return API_BASE;
  const url = new URL(absoluteUrl(vars, "CF_API_BASE"));
  const loopback = url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !loopback) throw new ConfigError("CF_API_BASE", "must be https (http only for a local test server on loopback)");
  return url.href.replace(/\/+$/, "");
}

function hosts(vars: RawVars, siteUrls: string[]): string[] {
  const given = raw(vars, "CF_PURGE_HOSTS");
  const list = given === undefined ? siteUrls.map((u) => new URL(u).host) : given.split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const h of list) {
    if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(h)) throw new ConfigError("CF_PURGE_HOSTS", `"${h}" is not a host name`);
  }
  const unique = [...new Set(list)];
  if (unique.length === 0) throw new ConfigError("CF_PURGE_HOSTS", "no host to purge: set it, or OFFLOAD_NODES / PUBLIC_URL");
  return unique;
}
