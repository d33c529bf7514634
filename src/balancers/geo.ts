/**
 * Geographic: nearest target first, by great-circle distance from the
 * client's coordinates (request.cf latitude/longitude).
 *
 * Without usable client coordinates: targets in the client's country, then
 * in its continent, then the other located ones. Targets without a location
 * always come after located ones: we cannot claim they are near.
 * Within a group (and between targets at the same distance band) the path's
 * HRW order decides, so co-located targets share traffic and keep cache
 * locality instead of the first in the list taking everything.
 */

import { hrwKey } from "./hrw";
import { weightsOf } from "./inputs";
import { orderBy } from "./order";
import type { Candidate, GeoPoint, SelectContext, Strategy } from "./types";

export interface GeoOptions {
  /**
   * Distances are compared in bands of this many km (default 0: exact).
   * E.g. 100 makes two nodes in the same metro area equally near, so HRW
   * shares the load between them.
   */
  bandKm?: number;
}

/** Mean Earth radius (IUGG), km. The spherical model errs by < 0.5%, which is enough to rank. */
const EARTH_RADIUS_KM = 6371.0088;

/** Haversine great-circle distance in km. */
export function haversineKm(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  // min() guards rounding just above 1 for antipodal points (asin(>1) is NaN).
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

function validPoint(lat: unknown, lon: unknown): GeoPoint | undefined {
  if (typeof lat !== "number" || typeof lon !== "number") return undefined;
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) return undefined; // also rejects NaN
  return { lat, lon };
}

/** Country/continent codes compared case-insensitively; request.cf sends "DE", configs may say "de". */
function sameCode(a: string | undefined, b: string | undefined): boolean {
  return !!a && !!b && a.toUpperCase() === b.toUpperCase();
}

export function geo(options: GeoOptions = {}): Strategy {
  const bandKm = options.bandKm ?? 0;
  if (!Number.isFinite(bandKm) || bandKm < 0) {
    throw new RangeError(`geo: bandKm must be a finite number >= 0, got ${String(options.bandKm)}`);
  }
  return Object.freeze({
    name: "geo" as const,
    byPathAlone: false,
    rank(candidates: readonly Candidate[], ctx: SelectContext): Candidate[] {
      const w = weightsOf(candidates);
      const client = ctx.client;
      const here = validPoint(client?.lat, client?.lon);
      return orderBy(candidates, (c, i) => {
        const loc = c.target.location;
        const there = validPoint(loc?.lat, loc?.lon);
        const tie = hrwKey(c.target.id, ctx.path, w[i]!);
        if (!there) return [Number.POSITIVE_INFINITY, ...tie];
        if (here) {
          const d = haversineKm(here, there);
          return [bandKm > 0 ? Math.floor(d / bandKm) : d, ...tie];
        }
        const group = sameCode(loc?.country, client?.country) ? 0 : sameCode(loc?.continent, client?.continent) ? 1 : 2;
        return [group, ...tie];
      });
    },
  });
}
