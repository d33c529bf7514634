/**
 * What the base loads once per isolate (Loaded) and what one request to its catch-all
 * carries (BaseRequest): shared by the wiring (app.ts) and the offload path (offload.ts).
 */
import type { BaseConfig } from "../config/base-config";
import type { ProxyRoute } from "../config/proxy-config";
import type { LoadedFarms } from "../farms/runtime";
import { cacheStatus } from "../http/cache-status";
import type { SigningKey } from "../signing/redirect-token";
import type { FrontPath } from "./front";
import type { RouteHooks } from "./routes";

export interface Loaded {
  config: BaseConfig;
  keys: SigningKey[];
  /** The first key, imported once for signing. */
  signer: { key: SigningKey; imported: Promise<CryptoKey> } | null;
  routes: ProxyRoute[];
  /** The HealthRegistry's id: one name hash per isolate, not per redirect. */
  healthId: DurableObjectId;
  /** Cache-Status of a redirect to each target, by id: the same string every time. */
  offloadStatus: Map<string, string>;
  /** Some route names a host or rewrites requests: only then is the request's host needed. */
  needsHost: boolean;
  hooks: Map<ProxyRoute, RouteHooks>;
  farms: LoadedFarms;
  adminToken: string | null;
}

/** One request that reached the catch-all, with what the front middleware checked and loaded. */
export interface BaseRequest {
  base: Loaded;
  env: Env;
  ctx: ExecutionContext;
  req: Request;
  /** `req.method` and `req.headers`, read once: each read is a call into the runtime. */
  method: string;
  headers: Headers;
  /** The request's one clock reading (memo expiry, token expiry). */
  now: number;
  /** Canonical path and raw query (http/path.ts). */
  path: FrontPath;
  /** One id for the request's error answer and every log line about it (made on first use). */
  requestId: () => string;
}

/**
 * Only hosts from our configuration are ever named (issue #11 L3): without PUBLIC_URL,
 * "" makes every reference we build path-absolute (RFC 3986 §4.2), never the Host the
 * client sent.
 */
export function publicOriginOf(config: BaseConfig): string {
  return config.publicUrl ?? "";
}

export function bypassStatus(config: BaseConfig, detail: string): string {
  return cacheStatus(config.baseId, { fwd: "bypass", detail });
}
