/**
 * Network-aware: the client's own network first, then the nearest, as mirror networks
 * rank their mirrors. Order (ascending key = preferred):
 *
 * 1. Same AS: targets whose `asns` list the client's request.cf.asn. Traffic stays
 *    inside the client's provider: no transit, usually the fastest path. MirrorBrain's
 *    mod_asn ranks "same prefix, same AS" before any geography; Mirrorbits adds a large
 *    score bonus for it; here it is a strict tier, so a same-AS mirror always wins.
 * 2. Within each of the two AS tiers, geography, as geo.ts:
 *    - with client and target coordinates: the "near" targets, those within
 *      max(nearFactor × the tier's closest distance, closest + nearKm), form one group
 *      (Mirrorbits' WeightDistributionRange, 1.5 by default, plus a metro-area floor so a
 *      closest distance of ~0 does not make the group empty); farther ones follow by
 *      distance;
 *    - without client coordinates: same country, then same continent, then the rest;
 *    - targets without a location come last: we cannot claim they are near.
 * 3. Within a group, the path's weighted HRW order (hrw.ts): targets that are equally
 *    good share the traffic in proportion to their weights, and a file keeps going to the
 *    same one (cache locality) while the pool is stable.
 *
 * Address families are not decided here: eligibility.ts drops targets that do not serve
 * the client's family for every strategy, so this one only ever sees reachable targets.
 * Per request: one pass computing distances, one orderBy (n hashes), as geo does.
 */

import { haversineKm } from "./geo";
import { hrwKey } from "./hrw";
import { weightsOf } from "./inputs";
import { orderBy } from "./order";
import type { Candidate, ClientInfo, GeoPoint, SelectContext, Strategy } from "./types";

export interface NetworkOptions {
  /** Targets within this factor of the closest distance count as equally near (default 1.5, >= 1). */
  nearFactor?: number;
  /** ... and at least within this many km of the closest (default 100: one metro area, >= 0). */
  nearKm?: number;
}

const UNLOCATED = 3;

export function network(options: NetworkOptions = {}): Strategy {
  // Checked once, when the strategy is created, not on every request.
  const nearFactor = options.nearFactor ?? 1.5;
  const nearKm = options.nearKm ?? 100;
  if (!Number.isFinite(nearFactor) || nearFactor < 1) throw new RangeError(`network: nearFactor must be a finite number >= 1, got ${String(options.nearFactor)}`);
  if (!Number.isFinite(nearKm) || nearKm < 0) throw new RangeError(`network: nearKm must be a finite number >= 0, got ${String(options.nearKm)}`);
  return Object.freeze({
    name: "network" as const,
    byPathAlone: false,
    rank(candidates: readonly Candidate[], ctx: SelectContext): Candidate[] {
      const client = ctx.client;
      const here = pointOf(client?.lat, client?.lon);
      const asn = client?.asn;
      const w = weightsOf(candidates);
      // tier 0/1 (same AS or not), then the distance (NaN: no coordinates on one side).
      const tiers = candidates.map((c) => (asn !== undefined && c.target.asns?.includes(asn) ? 0 : 1));
      const km = candidates.map((c) => (here ? distanceTo(here, c) : Number.NaN));
      // Farthest distance still "near" in each tier: max(factor × closest, closest + nearKm).
      const closest = [closestIn(km, tiers, 0), closestIn(km, tiers, 1)];
      const limit = closest.map((d) => Math.max(d * nearFactor, d + nearKm));
      return orderBy(candidates, (c, i) => {
        const tier = tiers[i]!;
        const tie = hrwKey(c.target.id, ctx.path, w[i]!);
        const d = km[i]!;
        if (!Number.isNaN(d)) return [tier, 0, d <= limit[tier]! ? 0 : d, ...tie];
        return [tier, zoneOf(c, client, here !== undefined), 0, ...tie];
      });
    },
  });
}

/** Smallest known distance among the targets of `tier` (Infinity when none has one). */
function closestIn(km: readonly number[], tiers: readonly number[], tier: number): number {
  let closest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < km.length; i++) if (tiers[i] === tier && km[i]! < closest) closest = km[i]!;
  return closest;
}

function pointOf(lat: unknown, lon: unknown): GeoPoint | undefined {
  if (typeof lat !== "number" || typeof lon !== "number") return undefined;
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) return undefined; // also rejects NaN
  return { lat, lon };
}

function distanceTo(here: GeoPoint, c: Candidate): number {
  const there = pointOf(c.target.location?.lat, c.target.location?.lon);
  return there ? haversineKm(here, there) : Number.NaN;
}

/**
 * Without a distance: 0 same country, 1 same continent, 2 elsewhere, 3 no location.
 * When the client has coordinates, a target reaching here has no usable location (3).
 */
function zoneOf(c: Candidate, client: ClientInfo | undefined, clientLocated: boolean): number {
  const loc = c.target.location;
  if (!loc || clientLocated || !pointOf(loc.lat, loc.lon)) return UNLOCATED;
  if (sameCode(loc.country, client?.country)) return 0;
  return sameCode(loc.continent, client?.continent) ? 1 : 2;
}

/** Codes compared case-insensitively; request.cf sends "DE", configs may say "de". */
function sameCode(a: string | undefined, b: string | undefined): boolean {
  return !!a && !!b && a.toUpperCase() === b.toUpperCase();
}
