/**
 * mod_athena's balancing for one farm: who may take this request, in what order, and
 * where to go when nobody may.
 *
 * - enabled members are candidates; draining ones only for clients stuck to them by a
 *   valid cookie; disabled and down members never (with the reason, for logs and admin);
 * - the farm's algorithm (any shared strategy) orders the candidates; the load-aware ones
 *   read the members' pushed stats (farm.loadMetric). A member whose stats expired counts
 *   as loaded as the busiest fresh one: an agent that stopped reporting must not look idle
 *   and collect every request;
 * - a valid sticky cookie naming a usable member puts it first; one naming another farm
 *   listed in this farm's qos moves the request to that farm (if it has anyone usable),
 *   with this farm's members after that farm's as failover;
 * - with no candidate, the farm's fallback URL.
 */
import { select, strategyByName } from "../balancers/select";
import type { Strategy, Target, TargetState } from "../balancers/types";
import type { Farm, FarmsConfig } from "../config/farms-config";
import { perIsolate } from "../platform/per-isolate";
import { memberViews, type MemberView } from "./members";
import type { StickyClaim } from "./sticky-cookie";
import type { MemberRecord } from "./types";

export interface FarmChoice {
  /** The farm that answered (another one when a QoS cookie moved the request). */
  farm: Farm;
  /** Most preferred first; members of several farms after a QoS move (see MemberView.farm). */
  ranked: MemberView[];
  excluded: { member: MemberView; reason: string }[];
  /** The cookie's member was put first. */
  sticky: boolean;
  fallbackUrl: string | null;
}

export interface ChooseContext {
  path: string;
  random: () => number;
  sequence: number;
  now: number;
  /** A verified sticky cookie, if the request carried one. */
  claim?: StickyClaim | null;
  /** This isolate's passive marks (proxy failures), by member URL. */
  passive?: (member: MemberView) => { healthy: boolean; reason?: string };
}

// Strategies are built once per farm object (farms are parsed once per env).
const strategyOf = perIsolate((farm: Farm): Strategy => strategyByName(farm.algorithm));

export function chooseMember(config: FarmsConfig, farm: Farm, records: Readonly<Record<string, MemberRecord>>, ctx: ChooseContext): FarmChoice {
  const claim = ctx.claim ?? null;
  if (claim && claim.farm !== farm.name && farm.qos.includes(claim.farm)) {
    const other = config.farms.get(claim.farm);
    const moved = other ? rankFarm(other, records, ctx, claim) : null;
    if (moved && moved.ranked.length > 0) {
      // The own farm's members follow as failover: a client moved to a better farm is
      // served by its own farm (and its fallback) when every member there fails.
      const own = rankFarm(farm, records, ctx, null);
      return { ...moved, ranked: [...moved.ranked, ...own.ranked], excluded: [...moved.excluded, ...own.excluded], fallbackUrl: moved.fallbackUrl ?? own.fallbackUrl };
    }
  }
  return rankFarm(farm, records, ctx, claim?.farm === farm.name ? claim : null);
}

function rankFarm(farm: Farm, records: Readonly<Record<string, MemberRecord>>, ctx: ChooseContext, claim: StickyClaim | null): FarmChoice {
  const views = memberViews(farm, records, ctx.now);
  const byId = new Map(views.map((v) => [v.id, v]));
  const stuck = claim?.member ? byId.get(claim.member) : undefined;
  const fresh = views.map((v) => metric(farm, v)).filter((x): x is number => x !== null);
  const busiest = fresh.length ? Math.max(...fresh) : 0;

  const stateOf = (id: string): TargetState => {
    const v = byId.get(id)!;
    const usable = v.state === "enabled" || (v.state === "draining" && v === stuck);
    if (!usable) return { healthy: false, reason: v.state === "down" ? `down: ${v.record.reason}` : v.state };
    const passive = ctx.passive?.(v);
    if (passive && !passive.healthy) return { healthy: false, reason: passive.reason ?? "passive: marked down" };
    return { healthy: true, load: metric(farm, v) ?? busiest };
  };
  const targets: Target[] = views.map((v) => ({ id: v.id, url: v.url, weight: v.weight, prefixes: ["/"] }));
  const selection = select(strategyOf(farm), targets, stateOf, { path: ctx.path, random: ctx.random, sequence: ctx.sequence, now: ctx.now });
  let ranked = selection.ranked.map((t) => byId.get(t.id)!);
  const sticky = stuck !== undefined && ranked.includes(stuck);
  if (sticky) ranked = [stuck, ...ranked.filter((v) => v !== stuck)];
  return {
    farm,
    ranked,
    excluded: selection.excluded.map((e) => ({ member: byId.get(e.target.id)!, reason: e.reason })),
    sticky,
    fallbackUrl: farm.fallbackUrl,
  };
}

function metric(farm: Farm, v: MemberView): number | null {
  const s = v.freshStats;
  if (!s) return null;
  return farm.loadMetric === "conns" ? s.conns : s.load;
}
