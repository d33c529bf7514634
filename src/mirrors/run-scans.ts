import { parseBaseConfig } from "../config/base-config";
import { inventoryOf } from "./catalog-view";
import type { MirrorInventory } from "./inventory";
import type { ScanReport } from "./scan";

/**
 * One Cron run of the mirror scans over the catalog's enabled mirrors (the MIRRORS seed
 * plus the admin's changes, catalog.ts): a mirror the admin disabled is not scanned.
 */
export async function runMirrorScans(env: { MIRROR_INVENTORY: DurableObjectNamespace<MirrorInventory> }): Promise<ScanReport[]> {
  const config = parseBaseConfig(env as unknown as Record<string, unknown>);
  if (config.mirrorScans.scanMinutes === 0) return [];
  const inventory = inventoryOf(env);
  const catalog = await inventory.catalog(config.mirrors);
  const mirrors = catalog.mirrors.filter((m) => m.enabled).map((m) => m.spec);
  if (mirrors.length === 0) return [];
  return inventory.scan({
    mirrors: mirrors.map((m) => ({ id: m.id, url: m.url, originEtags: m.originEtags ?? false, prefixes: m.prefixes, ...(m.scanUrl ? { scanUrl: m.scanUrl } : {}) })),
    scans: config.mirrorScans,
    checks: config.mirrorChecks,
  });
}
