/**
 * Everything /_admin shows, gathered once per page or API call straight from the
 * Durable Objects (not the per-isolate views: the operator must see what is true now).
 */
import type { BaseConfig } from "../config/base-config";
import type { FarmHealthCheck, FarmsConfig } from "../config/farms-config";
import { memberViews } from "../farms/members";
import { farmRegistry } from "../farms/runtime";
import type { AdminState, EffectiveState, FarmEvent, MemberStats } from "../farms/types";
import type { HealthRecord, Transition } from "../health/registry";
import { enabledMirrors } from "../mirrors/catalog-view";
import { STATS_OBJECT_NAME } from "../stats/recorder";
import type { StatsSummary } from "../stats/types";
import { log } from "../platform/log";

export interface AdminMember {
  id: string;
  url: string;
  weight: number;
  admin: AdminState;
  state: EffectiveState;
  healthy: boolean;
  reason: string;
  checkedAt: number | null;
  /** Last pushed stats, with whether they are still fresh (within statsTtlSeconds). */
  stats: (MemberStats & { fresh: boolean }) | null;
}

export interface AdminFarm {
  name: string;
  algorithm: string;
  loadMetric: string;
  fallbackUrl: string | null;
  statsTtlSeconds: number;
  health: FarmHealthCheck | null;
  qos: string[];
  members: AdminMember[];
}

export interface AdminTarget {
  id: string;
  kind: "node" | "mirror";
  url: string;
  healthy: boolean;
  reason: string;
  load: number | null;
  checkedAt: number | null;
}

export interface HealthData {
  targets: AdminTarget[];
  targetHistory: Transition[];
  farmEvents: FarmEvent[];
}

type AdminEnv = Parameters<typeof farmRegistry>[0] & { HEALTH: Env["HEALTH"]; STATS?: Env["STATS"]; MIRROR_INVENTORY: Env["MIRROR_INVENTORY"] };

export async function farmsData(farms: FarmsConfig, env: AdminEnv, now = Date.now()): Promise<AdminFarm[]> {
  const records = farms.farms.size ? await farmRegistry(env).snapshot() : {};
  return [...farms.farms.values()].map((f) => ({
    name: f.name,
    algorithm: f.algorithm,
    loadMetric: f.loadMetric,
    fallbackUrl: f.fallbackUrl,
    statsTtlSeconds: f.statsTtlSeconds,
    health: f.health,
    qos: f.qos,
    members: memberViews(f, records, now).map((m) => ({
      id: m.id,
      url: m.url,
      weight: m.weight,
      admin: m.record.admin,
      state: m.state,
      healthy: m.record.healthy,
      reason: m.record.reason,
      checkedAt: m.record.checkedAt || null,
      stats: m.record.stats ? { ...m.record.stats, fresh: m.freshStats !== null } : null,
    })),
  }));
}

export async function healthData(config: BaseConfig, farms: FarmsConfig, env: AdminEnv, limit = 50): Promise<HealthData> {
  const registry = env.HEALTH.get(env.HEALTH.idFromName("registry"));
  const [records, history, farmEvents, mirrors] = await Promise.all([
    registry.snapshot() as Promise<Record<string, HealthRecord>>,
    registry.history() as Promise<Transition[]>,
    farms.farms.size ? farmRegistry(env).events(limit) : Promise.resolve([]),
    // The mirrors the Cron checks: the runtime catalog's enabled ones, not only the MIRRORS seed.
    enabledMirrors(env, config.mirrors),
  ]);
  const targets = [...config.nodes, ...mirrors].map((t) => {
    const r = records[t.id];
    return { id: t.id, kind: t.kind, url: t.url, healthy: r?.healthy ?? true, reason: r?.reason ?? "", load: r?.load ?? null, checkedAt: r?.checkedAt ?? null };
  });
  return { targets, targetHistory: history.slice(-limit).reverse(), farmEvents };
}

/** Offload totals, or null when this deployment has no STATS binding or it cannot answer. */
export async function statsData(env: AdminEnv, minutes: number, top: number): Promise<StatsSummary | null> {
  if (!env.STATS) return null;
  try {
    return (await env.STATS.get(env.STATS.idFromName(STATS_OBJECT_NAME)).summary({ minutes, top })) as StatsSummary;
  } catch (e) {
    log.error("admin.stats-unavailable", { error: String(e) });
    return null;
  }
}
