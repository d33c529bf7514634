/**
 * The mirror catalog from the admin (JSON API and HTML forms alike): reads straight from
 * the MirrorInventory (the operator sees what is true now), writes through its catalog
 * methods, which check every input (mirrors/mirror-input.ts) and store nothing on a
 * refusal. After a change this isolate reloads its catalog view at once; the others
 * within CATALOG_VIEW_TTL_MS.
 */
import type { BaseConfig } from "../config/base-config";
import type { CatalogMirror, CatalogResult, LastVerdict, MirrorChange } from "../mirrors/catalog";
import { forgetCatalogView, inventoryOf } from "../mirrors/catalog-view";
import { copiesSummaries } from "../mirrors/copies";
import { STATS_OBJECT_NAME } from "../stats/recorder";
import type { MirrorTraffic } from "../stats/types";
import { log } from "../platform/log";

/** The per-minute numbers are averaged over this many minutes (the current one included). */
export const PER_MINUTE_WINDOW = 5;

export interface AdminMirror extends CatalogMirror {
  id: string;
  last: LastVerdict | null;
  lastProblem: LastVerdict | null;
  /** Redirects and bytes sent to this mirror per minute, averaged over the last PER_MINUTE_WINDOW minutes; null without stats. */
  perMinute: { redirects: number; bytes: number } | null;
  /** The Cron's scans (mirrors/scan.ts): lag, last scan, last error, and whether the lag policy disabled it; null before its first scan. */
  scan: ScanSummary | null;
}

export interface ScanSummary {
  /** Disabled by the lag policy (apart from the admin's own enable/disable), and why. */
  lagging: boolean;
  reason: string;
  lagFiles: number;
  oldestLagSince: number | null;
  scannedAt: number | null;
  lastError: string;
}

export interface MirrorsData {
  mirrors: AdminMirror[];
  history: MirrorChange[];
}

export type MirrorOp =
  | { kind: "add"; body: Record<string, unknown> }
  | { kind: "edit"; id: string; patch: Record<string, unknown> }
  | { kind: "enable" | "disable" | "delete" | "rescan"; id: string };

export const MIRROR_STATE_OPS = ["enable", "disable", "delete", "rescan"] as const;

export async function mirrorsData(env: Env, config: BaseConfig, historyLimit = 50): Promise<MirrorsData> {
  const inventory = inventoryOf(env);
  const catalog = await inventory.catalog(config.mirrors);
  const ids = catalog.mirrors.map((m) => m.spec.id);
  const [copies, history, traffic] = await Promise.all([copiesSummaries(env, ids), inventory.mirrorHistory(historyLimit), mirrorTraffic(env)]);
  const scan = (id: string): ScanSummary | null => {
    const r = copies[id]?.state;
    return r ? { lagging: r.disabled, reason: r.reason, lagFiles: r.lagFiles, oldestLagSince: r.oldestLagSince, scannedAt: r.scannedAt, lastError: r.lastError } : null;
  };
  const perMinute = (id: string) => {
    if (!traffic) return null;
    const t = traffic.mirrors.find((c) => c.mirror === id);
    return { redirects: (t?.redirects ?? 0) / traffic.windowMinutes, bytes: (t?.bytes ?? 0) / traffic.windowMinutes };
  };
  return {
    mirrors: catalog.mirrors.map((m) => ({ id: m.spec.id, ...m, last: copies[m.spec.id]?.last ?? null, lastProblem: copies[m.spec.id]?.lastProblem ?? null, perMinute: perMinute(m.spec.id), scan: scan(m.spec.id) })),
    history,
  };
}

/** Null without a STATS binding or when it does not answer: the card shows "–", never fails. */
async function mirrorTraffic(env: Env): Promise<MirrorTraffic | null> {
  if (!env.STATS) return null;
  try {
    return (await env.STATS.get(env.STATS.idFromName(STATS_OBJECT_NAME)).mirrorTraffic(PER_MINUTE_WINDOW)) as MirrorTraffic;
  } catch (e) {
    log.error("admin.mirror-traffic-unavailable", { error: String(e) });
    return null;
  }
}

export async function changeMirror(env: Env, config: BaseConfig, who: string, op: MirrorOp): Promise<CatalogResult<unknown>> {
  const inventory = inventoryOf(env);
  const caller = { seed: config.mirrors, who };
  const allowPrivate = config.mirrorsAllowPrivate;
  let r: CatalogResult<unknown>;
  if (op.kind === "add") r = await inventory.addMirror(caller, op.body, allowPrivate);
  else if (op.kind === "edit") r = await inventory.editMirror(caller, op.id, { patch: op.patch, allowPrivate });
  else if (op.kind === "enable" || op.kind === "disable") r = await inventory.setMirrorEnabled(caller, op.id, op.kind === "enable");
  else if (op.kind === "delete") r = await inventory.deleteMirror(caller, op.id);
  else r = await inventory.rescan(caller, op.id);
  if (r.ok) forgetCatalogView(env);
  return r;
}

/**
 * An HTML form's text fields as the JSON API's body: numbers as numbers, prefixes as a
 * list (commas or spaces), lat/lon/country as a location. An empty field is left out
 * (on edit: unchanged); what it holds is checked by the catalog, as the API's is.
 */
export function mirrorFormBody(f: Map<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const text = (k: string) => (f.get(k) ?? "").trim();
  // Not a number: passed on as text, so the check names the field (NaN would pass a range test).
  const num = (k: string) => (Number.isFinite(Number(text(k))) ? Number(text(k)) : text(k));
  for (const k of ["id", "url"]) if (text(k)) body[k] = text(k);
  if (text("weight")) body["weight"] = num("weight");
  if (text("prefixes")) body["prefixes"] = text("prefixes").split(/[\s,]+/).filter(Boolean);
  if (text("lat") || text("lon") || text("country")) {
    body["location"] = { lat: text("lat") ? num("lat") : undefined, lon: text("lon") ? num("lon") : undefined, ...(text("country") ? { country: text("country") } : {}) };
  }
  return body;
}
