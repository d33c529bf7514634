/**
 * Farms at run time, per env: the registry stub, this isolate's cached copy of its
 * records (the proxy and query mode read it on every request), round-robin counters and
 * the sticky-cookie claim of a request.
 */
import type { FarmsConfig } from "../config/farms-config";
import { perIsolate } from "../platform/per-isolate";
import { invalidateView, sharedView } from "../platform/shared-view";
import type { SigningKey } from "../signing/redirect-token";
import type { FarmRegistry } from "./registry";
import { cookieValue } from "../http/cookie";
import { verifySticky, type StickyClaim } from "./sticky-cookie";
import type { MemberRecord } from "./types";

/** How long an isolate balances on its copy of the registry before refreshing it. */
export const FARM_VIEW_TTL_MS = 2000;

export interface LoadedFarms {
  config: FarmsConfig;
  cookieKeys: SigningKey[];
}

interface FarmsEnv {
  FARM_REGISTRY: DurableObjectNamespace<FarmRegistry>;
}

export function farmRegistry(env: FarmsEnv): DurableObjectStub<FarmRegistry> {
  return env.FARM_REGISTRY.get(env.FARM_REGISTRY.idFromName("farms"));
}

export function farmRecords(env: FarmsEnv, ctx: ExecutionContext): Promise<Record<string, MemberRecord>> {
  return Promise.resolve(sharedView(env, "farms", () => farmRegistry(env).snapshot(), ctx, FARM_VIEW_TTL_MS, () => ({})));
}

/** After this isolate changed the registry, its next read sees the change. */
export function invalidateFarmRecords(env: object): void {
  invalidateView(env, "farms");
}

const sequencesOf = perIsolate((_env: object) => new Map<string, number>());

/** This isolate's round-robin position for `farm`, advanced by one. */
export function nextSequence(env: object, farm: string): number {
  const m = sequencesOf(env);
  const n = m.get(farm) ?? 0;
  m.set(farm, n + 1);
  return n;
}

/** The request's verified sticky claim, or null (absent, tampered, expired: all ignored). */
export async function stickyClaim(farms: LoadedFarms, headers: Headers): Promise<StickyClaim | null> {
  if (farms.cookieKeys.length === 0) return null;
  const check = await verifySticky(farms.cookieKeys, cookieValue(headers.get("cookie"), farms.config.cookieName));
  return check.ok ? check.claim : null;
}
