/**
 * Active health checks of farm members, run from the base's Cron Trigger: each farm with
 * a "health" block is probed when its interval has passed (the registry remembers when,
 * so every isolate and every Cron invocation agree). A member is up when it answers the
 * configured method and path with an expected status in time; rise/fall consecutive
 * results flip it (health/rise-fall.ts). Intervals below the Cron's period (one minute) are
 * met by that period only.
 */
import { parseFarmsConfig, type Farm, type FarmHealthCheck, type FarmMember, type FarmsConfig } from "../config/farms-config";
import { probe } from "../health/probe";
import { farmRegistry } from "./runtime";
import type { FarmEvent, Probe } from "./types";
import { log } from "../platform/log";

export async function probeMember(member: FarmMember, check: FarmHealthCheck): Promise<Probe> {
  const what = `${check.method} ${check.path}`;
  const r = await probe({ url: member.url + check.path, method: check.method, up: (status) => check.expect.includes(status), timeoutMs: check.timeoutMs, userAgent: "offload-base-farm-health" });
  let detail: string;
  if (r.answered) detail = `${what}: HTTP ${r.status} in ${r.ms} ms${r.ok ? "" : ` (expected ${check.expect.join(" or ")})`}`;
  else detail = r.kind === "timeout" ? `${what}: ${r.detail}` : r.detail;
  return { member: member.id, ok: r.ok, detail, source: "active" };
}

/** One Cron round: probe every farm that is due; returns the transitions it caused. */
export async function checkFarms(config: FarmsConfig, env: Parameters<typeof farmRegistry>[0], now = Date.now()): Promise<FarmEvent[]> {
  const registry = farmRegistry(env);
  const keep = [...config.farms.values()].flatMap((f) => f.members.map((m) => `${f.name}/${m.id}`));
  await registry.forgetAllBut(keep);
  const rounds = [...config.farms.values()].map(async (farm: Farm) => {
    const check = farm.health;
    if (!check || !(await registry.claimCheck(farm.name, check.intervalSeconds * 1000, now))) return [];
    const probes = await Promise.all(farm.members.map((m) => probeMember(m, check)));
    return registry.observe(farm.name, probes, { rise: check.rise, fall: check.fall });
  });
  return (await Promise.all(rounds)).flat();
}

/** The Cron entry point: reads FARMS itself (a bad config is logged, not thrown twice a minute). */
export async function runFarmChecks(env: Env): Promise<FarmEvent[]> {
  let config: FarmsConfig;
  try {
    config = parseFarmsConfig(env as unknown as Record<string, unknown>);
  } catch (e) {
    log.error("farm.checks-skipped", { error: String(e) });
    return [];
  }
  return config.farms.size ? checkFarms(config, env) : [];
}
