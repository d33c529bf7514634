import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { eligible } from "../../src/balancers/eligibility";
import { haversineKm } from "../../src/balancers/geo";
import { hash } from "../../src/balancers/hash";
import { network } from "../../src/balancers/network";
import { select } from "../../src/balancers/select";
import type { Candidate, Target } from "../../src/balancers/types";
import { arbCtx, arbPool, candidate, ctx, ctxOf, ids, report, round, target, tally } from "./support";

const BRUSSELS = { lat: 50.85, lon: 4.35, country: "BE", continent: "EU" };
const fra = target("fra", { location: { lat: 50.1109, lon: 8.6821, country: "DE", continent: "EU" } });
const par = target("par", { location: { lat: 48.85, lon: 2.35, country: "FR", continent: "EU" } });
const nyc = target("nyc", { location: { lat: 40.7128, lon: -74.006, country: "US", continent: "NA" } });
const syd = target("syd", { location: { lat: -33.8688, lon: 151.2093, country: "AU", continent: "OC" }, asns: [64500] });
const nowhere = target("nowhere");
const strategy = network();

describe("network: order", () => {
  it("a mirror in the client's AS comes first, however far; the rest by distance", () => {
    const cs = [nowhere, nyc, syd, fra].map((t) => candidate(t));
    expect(ids(strategy.rank(cs, ctx({ client: { ...BRUSSELS, asn: 64500 } })))).toEqual(["syd", "fra", "nyc", "nowhere"]);
    // Another AS: Sydney is just far away.
    expect(ids(strategy.rank(cs, ctx({ client: { ...BRUSSELS, asn: 3320 } })))).toEqual(["fra", "nyc", "syd", "nowhere"]);
    // Without coordinates the AS still decides first, then country/continent.
    expect(ids(strategy.rank(cs, ctx({ client: { country: "DE", continent: "EU", asn: 64500 } })))).toEqual(["syd", "fra", "nyc", "nowhere"]);
  });

  it("equally near targets share the traffic by weight; a far one only follows", () => {
    // Brussels: Paris ≈ 264 km, Frankfurt ≈ 320 km, both within 1.5 × the closest.
    const heavy = { ...fra, weight: 2 };
    const cs = [heavy, par, nyc].map((t) => candidate(t));
    const firsts = Array.from({ length: 6000 }, (_, k) => strategy.rank(cs, ctx({ path: `/f${k}`, client: BRUSSELS }))[0]!.target.id);
    const counts = tally(firsts);
    const share = counts["fra"]! / firsts.length;
    report("network near-group share by weight 2:1", { counts, fraShare: round(share, 3) });
    expect(counts["nyc"]).toBeUndefined();
    expect(Math.abs(share - 2 / 3)).toBeLessThan(0.03);
    // A tighter factor splits them: Paris alone is near, Frankfurt comes second.
    const tight = network({ nearFactor: 1, nearKm: 10 });
    for (let k = 0; k < 50; k++) expect(ids(tight.rank(cs, ctx({ path: `/f${k}`, client: BRUSSELS })))).toEqual(["par", "fra", "nyc"]);
  });

  it("without client coordinates: same country, then continent, then the rest; unlocated last", () => {
    const cs = [nowhere, nyc, fra, par, syd].map((t) => candidate(t));
    expect(ids(strategy.rank(cs, ctx({ client: { country: "fr", continent: "EU" } })))[0]).toBe("par");
    const pl = ids(strategy.rank(cs, ctx({ client: { country: "PL", continent: "EU" } })));
    expect(pl.slice(0, 2).sort()).toEqual(["fra", "par"]);
    expect(pl.at(-1)).toBe("nowhere");
  });

  it("with no client information it is the hash order among located targets, unlocated last", () => {
    const located = [nyc, fra, par, syd].map((t) => candidate(t));
    for (const path of ["/a", "/b", "/iso/x.iso"]) {
      expect(ids(strategy.rank([candidate(nowhere), ...located], ctx({ path })))).toEqual([...ids(hash().rank(located, ctx({ path }))), "nowhere"]);
    }
  });
});

/** Distance from the client, or undefined when either side has no coordinates. */
function kmOf(t: Target, client: { lat?: number; lon?: number } | undefined): number | undefined {
  const ok = (lat?: number, lon?: number) => typeof lat === "number" && typeof lon === "number" && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
  if (!client || !ok(client.lat, client.lon) || !t.location || !ok(t.location.lat, t.location.lon)) return undefined;
  return haversineKm({ lat: client.lat!, lon: client.lon! }, t.location);
}

describe("network: properties over random pools and clients", () => {
  it("every same-AS target precedes every other; within a tier located targets precede unlocated ones", () => {
    fc.assert(
      fc.property(arbPool, arbCtx, (p, c) => {
        const cs: Candidate[] = p.targets.map((t) => candidate(t));
        const out = strategy.rank(cs, ctxOf(c)).map((x) => x.target);
        const asn = c.client?.asn;
        const tier = (t: Target) => (asn !== undefined && t.asns?.includes(asn) ? 0 : 1);
        const located = (t: Target) => (t.location ? 0 : 1); // arbitrary locations are all valid
        for (let i = 1; i < out.length; i++) {
          const [a, b] = [out[i - 1]!, out[i]!];
          expect(tier(a)).toBeLessThanOrEqual(tier(b));
          if (tier(a) === tier(b)) expect(located(a)).toBeLessThanOrEqual(located(b));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("with coordinates, the first target of each tier is within the near range of that tier's closest, and farther ones follow by distance", () => {
    fc.assert(
      fc.property(arbPool, arbCtx, (p, c) => {
        const cs: Candidate[] = p.targets.map((t) => candidate(t));
        const out = strategy.rank(cs, ctxOf(c)).map((x) => x.target);
        const asn = c.client?.asn;
        for (const tier of [0, 1]) {
          const inTier = out.filter((t) => (asn !== undefined && t.asns?.includes(asn) ? 0 : 1) === tier);
          const km = inTier.map((t) => kmOf(t, c.client)).filter((d): d is number => d !== undefined);
          if (km.length === 0) continue;
          const closest = Math.min(...km);
          const limit = Math.max(closest * 1.5, closest + 100);
          expect(km[0]!).toBeLessThanOrEqual(limit);
          const far = km.filter((d) => d > limit);
          expect(far).toEqual([...far].sort((x, y) => x - y));
          // Near ones all come before far ones.
          const firstFar = km.findIndex((d) => d > limit);
          if (firstFar >= 0) expect(km.slice(firstFar).every((d) => d > limit)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("address family eligibility (every strategy)", () => {
  const v4only = target("v4only", { ipv6: false });
  const v6only = target("v6only", { ipv4: false });
  const both = target("both", { ipv4: true, ipv6: true });
  const undeclared = target("undeclared");
  const all = [v4only, v6only, both, undeclared];
  const healthy = () => ({ healthy: true });

  it("an IPv6 client never reaches an ipv6:false target, an IPv4 client never an ipv4:false one", () => {
    const six = eligible(all, { path: "/x", client: { family: 6 } }, healthy);
    expect(ids(six.candidates)).toEqual(["v6only", "both", "undeclared"]);
    expect(six.excluded).toEqual([{ target: v4only, reason: "does not serve IPv6 clients" }]);
    const four = eligible(all, { path: "/x", client: { family: 4 } }, healthy);
    expect(ids(four.candidates)).toEqual(["v4only", "both", "undeclared"]);
    expect(four.excluded).toEqual([{ target: v6only, reason: "does not serve IPv4 clients" }]);
  });

  it("an unknown family excludes nothing, and select applies the rule for any strategy", () => {
    expect(ids(eligible(all, "/x", healthy).candidates)).toEqual(ids(all));
    expect(ids(eligible(all, { path: "/x" }, healthy).candidates)).toEqual(ids(all));
    const sel = select(hash(), all, healthy, ctx({ client: { family: 6 } }));
    expect(ids(sel.ranked).sort()).toEqual(["both", "undeclared", "v6only"]);
  });
});
