/**
 * The redirect path's copy of the mirror catalog: loaded once per isolate, then served
 * from memory and refreshed in the background every CATALOG_VIEW_TTL_MS (shared-view.ts),
 * so no redirect waits on the MirrorInventory. An admin change reaches every isolate
 * within CATALOG_VIEW_TTL_MS plus one round trip, and the admin's own isolate at once
 * (forgetCatalogView). It carries the lag policy's disabled mirrors too (CatalogMirror.lagging),
 * so the redirect path holds one view of this object, not two. While the object cannot
 * answer, the seed (MIRRORS) stands.
 */
import type { TargetSpec } from "../config/targets";
import { invalidateView, sharedView } from "../platform/shared-view";
import type { Catalog } from "./catalog";
import type { InventoryEnv, MirrorInventory } from "./inventory";
import { log } from "../platform/log";
import type { Soon } from "../platform/soon";

export const CATALOG_VIEW_TTL_MS = 5000;
const VIEW = "mirror-catalog";

/** The base's one catalog object (each mirror's copies live in their own object, inventory.ts copiesOf). */
export function inventoryOf(env: InventoryEnv): DurableObjectStub<MirrorInventory> {
  return env.MIRROR_INVENTORY.get(env.MIRROR_INVENTORY.idFromName("inventory"));
}

/** The catalog as this isolate last saw it; version -1: the seed alone (the object did not answer). */
export function catalogView(env: InventoryEnv, seed: TargetSpec[], ctx: ExecutionContext, now = Date.now()): Soon<Catalog> {
  const fallback = (): Catalog => ({ version: -1, mirrors: seed.map((spec) => ({ spec, enabled: true, source: "seed", edited: false })) });
  return sharedView(env, VIEW, () => inventoryOf(env).catalog(seed) as Promise<Catalog>, ctx, CATALOG_VIEW_TTL_MS, fallback, now);
}

/** After this isolate changed the catalog: its next redirect loads it again. */
export function forgetCatalogView(env: InventoryEnv): void {
  invalidateView(env, VIEW);
}

/**
 * The catalog's enabled mirrors, read from the object itself, not an isolate's view (the
 * Cron's health checks and scans, once a minute); the seed while the object cannot answer,
 * so the nodes' checks never wait on it.
 */
export async function enabledMirrors(env: InventoryEnv, seed: TargetSpec[]): Promise<TargetSpec[]> {
  try {
    const catalog = (await inventoryOf(env).catalog(seed)) as Catalog;
    return catalog.mirrors.filter((m) => m.enabled).map((m) => m.spec);
  } catch (e) {
    log.error("mirror.catalog-unavailable", { for: "the Cron's checks and scans", error: String(e) });
    return seed;
  }
}
