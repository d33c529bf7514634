import type { BaseConfig } from "../config/base-config";
import type { TargetSpec } from "../config/targets";
import { inventoryOf } from "./catalog-view";
import type { MirrorInventory } from "./inventory";
import type { ScanReport } from "./scan";

/**
 * One Cron run of the mirror scans over `mirrors`, the catalog's enabled ones (the MIRRORS
 * seed plus the admin's changes, catalog-view.ts enabledMirrors): a mirror the admin
 * disabled is not scanned.
 */
export async function runMirrorScans(env: { MIRROR_INVENTORY: DurableObjectNamespace<MirrorInventory> }, config: BaseConfig, mirrors: TargetSpec[]): Promise<ScanReport[]> {
  if (config.mirrorScans.scanMinutes === 0 || mirrors.length === 0) return [];
  return inventoryOf(env).scan({
    mirrors: mirrors.map((m) => ({ id: m.id, url: m.url, originEtags: m.originEtags ?? false, prefixes: m.prefixes, ...(m.scanUrl ? { scanUrl: m.scanUrl } : {}) })),
    scans: config.mirrorScans,
    checks: config.mirrorChecks,
  });
}
