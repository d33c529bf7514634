/**
 * A proxy route whose backend names a farm (`http://farm_one/reports`): the farm's
 * choice (algorithm, states, stats, sticky cookie) ranks its members, this isolate's
 * passive marks still apply, failures are reported to the FarmRegistry as passive health
 * observations of the member (farms with active checks only), and the farm's fallback URL comes before the route's.
 */
import type { ProxyBackend, ProxyRoute } from "../config/proxy-config";
import { passiveState } from "../proxy/failover";
import type { Ranking } from "../proxy/proxy";
import { chooseMember } from "./choose";
import type { MemberView } from "./members";
import { farmRecords, farmRegistry, nextSequence, stickyClaim, type LoadedFarms } from "./runtime";
import { log } from "../platform/log";

export async function farmRanking(
  farms: LoadedFarms,
  route: ProxyRoute & { farm: NonNullable<ProxyRoute["farm"]> },
  req: Request,
  path: string,
  env: Parameters<typeof farmRegistry>[0],
  ctx: ExecutionContext,
): Promise<Ranking> {
  const farm = farms.config.farms.get(route.farm.name)!;
  const now = Date.now();
  const [records, claim] = await Promise.all([farmRecords(env, ctx), stickyClaim(farms, req.headers)]);
  const suffix = route.farm.path;
  const choice = chooseMember(farms.config, farm, records, {
    path,
    random: Math.random,
    sequence: nextSequence(env, farm.name),
    now,
    claim,
    passive: (m) => passiveState(env, m.url + suffix, now),
  });
  // A QoS move ranks members of two farms: each failure is reported for its own farm.
  const memberOf = new Map<ProxyBackend, MemberView>();
  const ranked = choice.ranked.map((m) => {
    const backend = { id: m.id, url: m.url + suffix, weight: m.weight };
    memberOf.set(backend, m);
    return backend;
  });
  return {
    ranked,
    excluded: choice.excluded.map((e) => ({ id: e.member.id, url: e.member.url + suffix, reason: e.reason })),
    fallbackUrl: choice.fallbackUrl ?? route.fallbackUrl,
    report: (backend, ok, detail) => {
      const member = memberOf.get(backend);
      const owner = member ? farms.config.farms.get(member.farm) : undefined;
      // Without active checks nothing would ever bring a member the registry marked down
      // back: such farms keep passive failures in this isolate's back-off marks only.
      if (!member || !owner?.health) return;
      const probe = { member: member.id, ok, detail, source: "passive" as const };
      // One success is proof enough that a marked member answers again (rise 1).
      const sent = farmRegistry(env).observe(owner.name, [probe], { rise: 1, fall: owner.health.fall });
      ctx.waitUntil(sent.then(() => undefined, (e: unknown) => log.error("farm.report-failed", { farm: owner.name, member: member.id, error: String(e) })));
    },
  };
}
