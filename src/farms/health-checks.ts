/**
 * Active health checks of farm members, run from the base's Cron Trigger: each farm with
 * a "health" block is probed when its interval has passed (the registry remembers when,
 * so every isolate and every Cron invocation agree). A member is up when it answers the
 * configured method and path with an expected status in time; rise/fall consecutive
 * results flip it, as in HAProxy. Intervals below the Cron's period (one minute) are
 * met by that period only.
 */
import { parseFarmsConfig, type Farm, type FarmHealthCheck, type FarmMember, type FarmsConfig } from "../config/farms-config";
import { farmRegistry } from "./runtime";
import type { FarmEvent, Probe } from "./types";

export async function probeMember(member: FarmMember, check: FarmHealthCheck): Promise<Probe> {
  const started = Date.now();
  try {
    const res = await fetch(member.url + check.path, {
      method: check.method,
      redirect: "manual",
      signal: AbortSignal.timeout(check.timeoutMs),
      headers: { "user-agent": "offload-base-farm-health" },
    });
    await res.body?.cancel();
    const ok = check.expect.includes(res.status);
    return { member: member.id, ok, detail: `${check.method} ${check.path}: HTTP ${res.status} in ${Date.now() - started} ms${ok ? "" : ` (expected ${check.expect.join(" or ")})`}`, source: "active" };
  } catch (e) {
    const timedOut = (e as Error).name === "TimeoutError";
    return { member: member.id, ok: false, detail: timedOut ? `${check.method} ${check.path}: no answer within ${check.timeoutMs} ms` : `cannot connect: ${(e as Error).message}`, source: "active" };
  }
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
    console.error(JSON.stringify({ msg: "farm checks skipped", error: String(e) }));
    return [];
  }
  return config.farms.size ? checkFarms(config, env) : [];
}
