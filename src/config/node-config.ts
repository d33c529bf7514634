/**
 * Raw wrangler vars -> one typed, validated NodeConfig.
 *
 * Erasable TypeScript with .ts imports only, so the local stack (scripts/dev-stack.mjs,
 * plain Node with type stripping) validates the same settings with the same messages
 * before it starts any worker.
 */

import type { Cidr } from "../net/ip.ts";
import { fillStallSeconds } from "./fill-stall.ts";
import { statsFlushSeconds } from "./stats-flush.ts";
import { absoluteUrl, boolean, cidrList, ConfigError, integer, raw, token, type RawVars } from "./fields.ts";

/** Default CHUNK_SIZE: chosen by the chunk-size sweep, README "Benchmarks". */
const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

export { ConfigError, type RawVars } from "./fields.ts";

export interface NodeConfig {
  /** Base origin, without trailing slash: the node only ever requests originUrl + normalised path. */
  originUrl: string;
  /** Name used in Cache-Status (RFC 9211 §2) and logs. */
  nodeId: string;
  /** Concurrent downloads of one URL per client (IPv6 grouped by /64); 0 disables the guard. */
  maxConnectionsPerClient: number;
  /** Smaller downloads are not counted: they end before an accelerator's second connection matters. */
  guardMinBytes: number;
  /** Client networks exempt from the guard. */
  connectionAllowlist: Cidr[];
  /** Skip the revalidation HEAD while the copy was confirmed less than this many seconds ago. */
  revalidateSeconds: number;
  /** Files up to this size are kept in the per-colo Cache API, chunk by chunk (0 = R2 only). */
  cacheApiMaxBytes: number;
  /** Bytes per stored chunk (store/layout.ts): the unit of R2 objects, Cache API entries and slice fills. */
  chunkSize: number;
  /** A fill lease without a stored chunk or heartbeat for this long is handed to the next client. */
  fillStallSeconds: number;
  /** Time allowed for the origin to answer with headers before 504. */
  originTimeoutMs: number;
  /** Lifetime of a download slot without a heartbeat (a dead worker frees it after this). */
  leaseSeconds: number;
  /** Retry-After sent with a refused (503) download. */
  retryAfterSeconds: number;
  /** Parts per 206 after coalescing (nginx max_ranges); a Range asking for more gets 200 whole. */
  maxRanges: number;
  /** Whether the query string is part of the cache key and forwarded to the origin. */
  cacheKeyQuery: boolean;
  /** Whether client Cookie / Authorization are forwarded (responses then bypass the store). */
  forwardCredentials: boolean;
  /** Refuse requests without a valid redirect token from the base (403). */
  requireSignedUrls: boolean;
  /** Raw SIGNING_KEYS secret ("id:secret,id:secret"), parsed by the signing module. */
  signingKeys: string;
  /** Longest token lifetime accepted (seconds ahead of now); the base's SIGNED_URL_TTL or more. */
  tokenMaxTtlSeconds: number;
  /** Refuse tokens not bound to a client (pair with SIGN_CLIENT=true at the base). */
  requireTokenClient: boolean;
  /** Pace every download (mod_dialup): a modem preset ("V.92") or bytes/s; null = full speed. */
  throttle: string | null;
  /** Bytes of each download sent before pacing starts (nginx limit_rate_after). */
  throttleBurstBytes: number;
  /** Seconds between flushes of the offload totals to the base's OffloadStats (0 = every answer). */
  statsFlushSeconds: number;
  /** Longest a colo serves a purged copy: the purge log is re-read from R2 after this (0 = on every colo hit). */
  purgeCheckSeconds: number;
  /** Cache API cache of this node (caches.open); null = caches.default. The local stack sets one per node, as colos. */
  cacheName: string | null;
}

/** Every variable parseNodeConfig reads (the local stack passes these through from its environment). */
export const NODE_VAR_NAMES = [
  "ORIGIN_URL", "NODE_ID", "MAX_CONNECTIONS_PER_CLIENT", "GUARD_MIN_BYTES", "CONNECTION_ALLOWLIST",
  "REVALIDATE_SECONDS", "CACHE_API_MAX_BYTES", "CHUNK_SIZE", "FILL_STALL_SECONDS", "ORIGIN_TIMEOUT_MS", "LEASE_SECONDS",
  "RETRY_AFTER_SECONDS", "MAX_RANGES", "CACHE_KEY_QUERY", "FORWARD_CREDENTIALS", "REQUIRE_SIGNED_URLS", "SIGNING_KEYS",
  "TOKEN_MAX_TTL_SECONDS", "REQUIRE_TOKEN_CLIENT",
  "THROTTLE", "THROTTLE_BURST_BYTES", "STATS_FLUSH_SECONDS", "PURGE_CHECK_SECONDS", "CACHE_NAME",
] as const;

/**
 * Default of MAX_RANGES: parts per answer after coalescing (http/range-coalesce.ts
 * shapeRanges), like nginx's `max_ranges`; above it the answer is the whole file (200).
 */
export const DEFAULT_MAX_RANGES = 16;

export function parseNodeConfig(vars: RawVars): NodeConfig {
  return {
    originUrl: absoluteUrl(vars, "ORIGIN_URL"),
    nodeId: token(vars, "NODE_ID", "offload-node"),
    maxConnectionsPerClient: integer(vars, "MAX_CONNECTIONS_PER_CLIENT", 2, 0, 10_000),
    guardMinBytes: integer(vars, "GUARD_MIN_BYTES", 1024 * 1024, 0, Number.MAX_SAFE_INTEGER),
    connectionAllowlist: cidrList(vars, "CONNECTION_ALLOWLIST"),
    revalidateSeconds: integer(vars, "REVALIDATE_SECONDS", 0, 0, 31_536_000),
    cacheApiMaxBytes: integer(vars, "CACHE_API_MAX_BYTES", Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER),
    chunkSize: integer(vars, "CHUNK_SIZE", DEFAULT_CHUNK_SIZE, 4096, 256 * 1024 * 1024),
    fillStallSeconds: fillStallSeconds(vars),
    originTimeoutMs: integer(vars, "ORIGIN_TIMEOUT_MS", 15_000, 100, 600_000),
    leaseSeconds: integer(vars, "LEASE_SECONDS", 30, 3, 3600),
    retryAfterSeconds: integer(vars, "RETRY_AFTER_SECONDS", 5, 1, 3600),
    maxRanges: integer(vars, "MAX_RANGES", DEFAULT_MAX_RANGES, 1, 1000),
    cacheKeyQuery: boolean(vars, "CACHE_KEY_QUERY", false),
    forwardCredentials: boolean(vars, "FORWARD_CREDENTIALS", false),
    requireSignedUrls: boolean(vars, "REQUIRE_SIGNED_URLS", false),
    signingKeys: raw(vars, "SIGNING_KEYS") ?? "",
    // Same default and range as the base's SIGNED_URL_TTL, which it bounds.
    tokenMaxTtlSeconds: integer(vars, "TOKEN_MAX_TTL_SECONDS", 3600, 10, 7 * 86_400),
    requireTokenClient: requireTokenClient(vars),
    throttle: raw(vars, "THROTTLE") ?? null,
    throttleBurstBytes: integer(vars, "THROTTLE_BURST_BYTES", 0, 0, Number.MAX_SAFE_INTEGER),
    statsFlushSeconds: statsFlushSeconds(vars),
    purgeCheckSeconds: integer(vars, "PURGE_CHECK_SECONDS", 2, 0, 3600),
    cacheName: raw(vars, "CACHE_NAME") === undefined ? null : token(vars, "CACHE_NAME", ""),
  };
}

/** Binding is a property of a checked token: without REQUIRE_SIGNED_URLS it would check nothing. */
function requireTokenClient(vars: RawVars): boolean {
  const on = boolean(vars, "REQUIRE_TOKEN_CLIENT", false);
  if (on && !boolean(vars, "REQUIRE_SIGNED_URLS", false)) {
    throw new ConfigError("REQUIRE_TOKEN_CLIENT", "needs REQUIRE_SIGNED_URLS=true (no token is checked otherwise)");
  }
  return on;
}
