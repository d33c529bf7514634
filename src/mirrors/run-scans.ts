import type { BaseConfig } from "../config/base-config";
import type { TargetSpec } from "../config/targets";
import { inventoryOf } from "./catalog-view";
import { copiesOf, type InventoryEnv } from "./inventory";
import type { ScanReport } from "./scan";
import { log } from "../platform/log";

/**
 * One Cron run of the mirror scans over `mirrors`, the catalog's enabled ones (the MIRRORS
 * seed plus the admin's changes, catalog-view.ts enabledMirrors): a mirror the admin
 * disabled is not scanned.
 */
export async function runMirrorScans(env: InventoryEnv, config: BaseConfig, mirrors: TargetSpec[]): Promise<ScanReport[]> {
  if (config.mirrorScans.scanMinutes === 0 || mirrors.length === 0) return [];
  // Each mirror in its own copies object, all at once: each call has its own subrequest
  // budget and CPU time, so a run's HEADs are bounded per mirror, not per base.
  const results = await Promise.allSettled(
    mirrors.map((m) =>
      copiesOf(env, m.id).scan({
        mirrors: [{ id: m.id, url: m.url, originEtags: m.originEtags ?? false, prefixes: m.prefixes, ...(m.scanUrl ? { scanUrl: m.scanUrl } : {}) }],
        scans: config.mirrorScans,
        checks: config.mirrorChecks,
      }) as Promise<ScanReport[]>,
    ),
  );
  const reports = results.flatMap((r, i) => {
    if (r.status === "fulfilled") return r.value;
    log.error("mirror.scan-failed", { mirror: mirrors[i]!.id, error: String(r.reason) });
    return [];
  });
  // The lag policy's decisions reach the redirect path with the catalog (catalog-view.ts).
  if (reports.length) await inventoryOf(env).noteScanReports(reports);
  return reports;
}
