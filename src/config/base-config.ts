/**
 * Raw wrangler vars of the base worker -> one typed, validated BaseConfig.
 * Erasable TypeScript with .ts imports only (the local stack validates it from Node).
 */
import type { Cidr } from "../net/ip.ts";
import { absoluteUrl, boolean, cidrList, ConfigError, integer, raw, token, type RawVars } from "./fields.ts";
import { compileGlob, type Glob } from "./glob.ts";
import { MIRROR_SCAN_VAR_NAMES, mirrorScans, type MirrorScans } from "./mirror-scans.ts";
import { isStrategyName, STRATEGY_NAMES, type StrategyName } from "./strategy-names.ts";
import { privateAddressProblem } from "./public-address.ts";
import { targetList, type TargetSpec } from "./targets.ts";
import { CLOUDFLARE_PURGE_VAR_NAMES, parseCloudflarePurge, type CloudflarePurgeConfig } from "./cloudflare-purge.ts";

export interface BaseConfig {
  originUrl: string;
  /** Name of this base in Cache-Status and logs. */
  baseId: string;
  nodes: TargetSpec[];
  /** MIRRORS: the seed of the mirror catalog (src/mirrors/catalog.ts), which the admin edits at run time. */
  mirrors: TargetSpec[];
  /** MIRRORS_ALLOW_PRIVATE: mirrors may name private, loopback or link-local addresses (local stacks, tests). */
  mirrorsAllowPrivate: boolean;
  balancer: StrategyName;
  /** Matched with matchGlob (./glob.ts), in time linear in the path length per glob. */
  include: Glob[];
  exclude: Glob[];
  /** Files smaller than this are served by the base itself. */
  minBytes: number;
  /** Content types (prefix match, e.g. "text/") never offloaded. */
  excludeTypes: string[];
  /** Case-insensitive User-Agent substrings never offloaded (e.g. a site's own monitor). */
  excludeUserAgents: string[];
  excludeClients: Cidr[];
  redirectStatus: 302 | 307;
  /** Serve eligible files locally until this many are in flight (0 = always redirect). */
  busyThreshold: number;
  /** How long a learned size/type/digest is remembered. */
  infoCacheSeconds: number;
  /** Raw SIGNING_KEYS ("id:secret,id:secret"); parsed by the signing module. */
  signingKeys: string;
  tokenTtlSeconds: number;
  /** Bind signed redirects to the client's address (/64 for IPv6). */
  signClient: boolean;
  /** The nodes key their cache on the query (their CACHE_KEY_QUERY): tokens sign it too. */
  cacheKeyQuery: boolean;
  /** Where to send clients when no node or mirror is healthy; null = serve locally. */
  fallbackUrl: string | null;
  /** Public URL of the base, for rewriting the origin's Location; null = the request's own. */
  publicUrl: string | null;
  /** Admin purges also call Cloudflare's cache purge API (CF_API_TOKEN + CF_ZONE_ID); null = never. */
  cloudflarePurge: CloudflarePurgeConfig | null;
  maxLinks: number;
  originTimeoutMs: number;
  /** Longest silence of a client between two chunks of an upload the base passes to the origin (408 after it). */
  clientBodyTimeoutMs: number;
  health: { timeoutMs: number; rise: number; fall: number };
  leaseSeconds: number;
  /** The per-file mirror inventory (src/mirrors/): how long verdicts count, the HEAD's deadline. */
  mirrorChecks: MirrorChecks;
  /** The Cron's scans of the mirrors and the lag policy (./mirror-scans.ts). */
  mirrorScans: MirrorScans;
}

export interface MirrorChecks {
  /** How long a "current" verdict is trusted before the mirror is asked again. */
  verdictSeconds: number;
  /** How long an outdated, missing or error verdict stands (<= verdictSeconds: a lagging mirror catches up). */
  recheckSeconds: number;
  timeoutMs: number;
}

export const BASE_VAR_NAMES = [
  "ORIGIN_URL", "BASE_ID", "OFFLOAD_NODES", "MIRRORS", "BALANCER", "OFFLOAD_INCLUDE", "OFFLOAD_EXCLUDE",
  "OFFLOAD_MIN_BYTES", "OFFLOAD_EXCLUDE_TYPES", "OFFLOAD_EXCLUDE_USER_AGENTS", "OFFLOAD_EXCLUDE_CLIENTS",
  "REDIRECT_STATUS", "OFFLOAD_WHEN_BUSY", "INFO_CACHE_SECONDS", "SIGNING_KEYS", "SIGNED_URL_TTL",
  "SIGN_CLIENT", "CACHE_KEY_QUERY", "FALLBACK_URL", "PUBLIC_URL", "MAX_LINKS", "ORIGIN_TIMEOUT_MS", "CLIENT_BODY_TIMEOUT_MS", "HEALTH_TIMEOUT_MS",
  "HEALTH_RISE", "HEALTH_FALL", "LEASE_SECONDS", "PROXY_ROUTES", "STATS_FLUSH_SECONDS",
  "MIRROR_VERDICT_SECONDS", "MIRROR_RECHECK_SECONDS", "MIRROR_CHECK_TIMEOUT_MS", "MIRRORS_ALLOW_PRIVATE",
  ...MIRROR_SCAN_VAR_NAMES, ...CLOUDFLARE_PURGE_VAR_NAMES,
] as const;

export function parseBaseConfig(vars: RawVars): BaseConfig {
  const redirect = integer(vars, "REDIRECT_STATUS", 307, 302, 307);
  if (redirect !== 302 && redirect !== 307) throw new ConfigError("REDIRECT_STATUS", "must be 307 or 302");
  const balancer = raw(vars, "BALANCER") ?? "hash";
  if (!isStrategyName(balancer)) throw new ConfigError("BALANCER", `"${balancer}" is not one of ${STRATEGY_NAMES.join(", ")}`);
  const fallback = raw(vars, "FALLBACK_URL");
  const publicUrl = raw(vars, "PUBLIC_URL");
  const mirrorsAllowPrivate = boolean(vars, "MIRRORS_ALLOW_PRIVATE", false);
  const nodes = targetList(vars, "OFFLOAD_NODES", "node");
  const publicAt = publicUrl === undefined ? null : absoluteUrl({ PUBLIC_URL: publicUrl }, "PUBLIC_URL");
  return {
    originUrl: absoluteUrl(vars, "ORIGIN_URL"),
    baseId: token(vars, "BASE_ID", "offload-base"),
    nodes,
    mirrors: publicMirrors(targetList(vars, "MIRRORS", "mirror"), mirrorsAllowPrivate),
    mirrorsAllowPrivate,
    balancer,
    include: globs(vars, "OFFLOAD_INCLUDE", "/*"),
    exclude: globs(vars, "OFFLOAD_EXCLUDE", ""),
    minBytes: integer(vars, "OFFLOAD_MIN_BYTES", 1024 * 1024, 0, Number.MAX_SAFE_INTEGER),
    excludeTypes: list(vars, "OFFLOAD_EXCLUDE_TYPES", "text/html").map((s) => s.toLowerCase()),
    excludeUserAgents: list(vars, "OFFLOAD_EXCLUDE_USER_AGENTS", "").map((s) => s.toLowerCase()),
    excludeClients: cidrList(vars, "OFFLOAD_EXCLUDE_CLIENTS"),
    redirectStatus: redirect,
    busyThreshold: integer(vars, "OFFLOAD_WHEN_BUSY", 0, 0, 1_000_000),
    infoCacheSeconds: integer(vars, "INFO_CACHE_SECONDS", 60, 0, 86_400),
    signingKeys: raw(vars, "SIGNING_KEYS") ?? "",
    tokenTtlSeconds: integer(vars, "SIGNED_URL_TTL", 3600, 10, 7 * 86_400),
    signClient: boolean(vars, "SIGN_CLIENT", false),
    cacheKeyQuery: boolean(vars, "CACHE_KEY_QUERY", false),
    fallbackUrl: fallback === undefined ? null : absoluteUrl({ FALLBACK_URL: fallback }, "FALLBACK_URL"),
    publicUrl: publicAt,
    cloudflarePurge: parseCloudflarePurge(vars, [...nodes.map((n) => n.url), ...(publicAt ? [publicAt] : [])]),
    maxLinks: integer(vars, "MAX_LINKS", 5, 0, 20),
    originTimeoutMs: integer(vars, "ORIGIN_TIMEOUT_MS", 15_000, 100, 600_000),
    // nginx client_body_timeout's default; the proxy routes' clientBodyTimeoutMs has the same.
    clientBodyTimeoutMs: integer(vars, "CLIENT_BODY_TIMEOUT_MS", 60_000, 100, 600_000),
    health: {
      timeoutMs: integer(vars, "HEALTH_TIMEOUT_MS", 3000, 100, 60_000),
      rise: integer(vars, "HEALTH_RISE", 2, 1, 100),
      fall: integer(vars, "HEALTH_FALL", 2, 1, 100),
    },
    leaseSeconds: integer(vars, "LEASE_SECONDS", 30, 3, 3600),
    mirrorChecks: mirrorChecks(vars),
    mirrorScans: mirrorScans(vars),
  };
}

function mirrorChecks(vars: RawVars): MirrorChecks {
  const verdictSeconds = integer(vars, "MIRROR_VERDICT_SECONDS", 300, 1, 86_400);
  const recheckSeconds = integer(vars, "MIRROR_RECHECK_SECONDS", Math.min(60, verdictSeconds), 1, 86_400);
  if (recheckSeconds > verdictSeconds) throw new ConfigError("MIRROR_RECHECK_SECONDS", `${recheckSeconds} is longer than MIRROR_VERDICT_SECONDS (${verdictSeconds})`);
  return { verdictSeconds, recheckSeconds, timeoutMs: integer(vars, "MIRROR_CHECK_TIMEOUT_MS", 3000, 100, 60_000) };
}

function publicMirrors(mirrors: TargetSpec[], allowPrivate: boolean): TargetSpec[] {
  if (allowPrivate) return mirrors;
  mirrors.forEach((m, i) => {
    const problem = privateAddressProblem(m.url);
    if (problem) throw new ConfigError(`MIRRORS[${i}].url`, problem);
  });
  return mirrors;
}

function list(vars: RawVars, field: string, fallback: string): string[] {
  return (raw(vars, field) ?? fallback).split(",").map((s) => s.trim()).filter(Boolean);
}

/**
 * Path globs: `*` any characters (slashes included), `?` one character; must start with / or *.
 * Never compiled to a RegExp: a backtracking engine is superlinear on such patterns.
 */
function globs(vars: RawVars, field: string, fallback: string): Glob[] {
  return list(vars, field, fallback).map((g) => {
    if (!/^[/*]/.test(g)) throw new ConfigError(field, `"${g}" must start with "/" or "*"`);
    return compileGlob(g);
  });
}
