import { parseBaseConfig } from "../config/base-config";
import type { MirrorInventory } from "./inventory";
import type { ScanReport } from "./scan";

/** One Cron run of the mirror scans over the configured mirrors (MIRRORS). */
export async function runMirrorScans(env: { MIRROR_INVENTORY: DurableObjectNamespace<MirrorInventory> }): Promise<ScanReport[]> {
  const config = parseBaseConfig(env as unknown as Record<string, unknown>);
  if (config.mirrors.length === 0 || config.mirrorScans.scanMinutes === 0) return [];
  const inventory = env.MIRROR_INVENTORY.get(env.MIRROR_INVENTORY.idFromName("inventory"));
  return inventory.scan({
    mirrors: config.mirrors.map((m) => ({ id: m.id, url: m.url, originEtags: m.originEtags ?? false, prefixes: m.prefixes, ...(m.scanUrl ? { scanUrl: m.scanUrl } : {}) })),
    scans: config.mirrorScans,
    checks: config.mirrorChecks,
  });
}
