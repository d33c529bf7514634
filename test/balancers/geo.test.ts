import { describe, it, expect } from "vitest";
import { geo, haversineKm } from "../../src/balancers/geo";
import { hash } from "../../src/balancers/hash";
import { candidate, ctx, ids, report, round, target } from "./support";

const PARIS = { lat: 48.8566, lon: 2.3522 };
const fra = target("fra", { location: { lat: 50.1109, lon: 8.6821, country: "DE", continent: "EU" } });
const par = target("par", { location: { ...PARIS, lat: 48.85, country: "FR", continent: "EU" } });
const nyc = target("nyc", { location: { lat: 40.7128, lon: -74.006, country: "US", continent: "NA" } });
const syd = target("syd", { location: { lat: -33.8688, lon: 151.2093, country: "AU", continent: "OC" } });
const nowhere = target("nowhere");

describe("geo", () => {
  const strategy = geo();

  it("haversine: Paris–Frankfurt ≈ 478 km, Paris–New York ≈ 5837 km, antipodes ≈ 20015 km", () => {
    const pf = haversineKm(PARIS, fra.location!);
    const pn = haversineKm(PARIS, nyc.location!);
    const anti = haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 });
    report("geo distances km", { parisFrankfurt: round(pf, 1), parisNewYork: round(pn, 1), antipodes: round(anti, 1) });
    expect(Math.abs(pf - 478)).toBeLessThan(5);
    expect(Math.abs(pn - 5837)).toBeLessThan(15);
    expect(Math.abs(anti - 20015)).toBeLessThan(5);
  });

  it("a client in Paris gets Frankfurt before New York before Sydney; unlocated targets last", () => {
    const cs = [nowhere, syd, nyc, fra].map((t) => candidate(t));
    expect(ids(strategy.rank(cs, ctx({ client: { ...PARIS, country: "FR", continent: "EU" } })))).toEqual(["fra", "nyc", "syd", "nowhere"]);
    // A Sydney client, by coordinates alone (country missing).
    expect(ids(strategy.rank(cs, ctx({ client: { lat: -37.8, lon: 144.9 } })))[0]).toBe("syd");
  });

  it("without coordinates: same country, then same continent, then the rest by HRW", () => {
    const cs = [nowhere, nyc, fra, par, syd].map((t) => candidate(t));
    expect(ids(strategy.rank(cs, ctx({ client: { country: "FR", continent: "EU" } })))[0]).toBe("par");
    expect(ids(strategy.rank(cs, ctx({ client: { country: "de", continent: "EU" } })))[0]).toBe("fra");
    const pl = ids(strategy.rank(cs, ctx({ client: { country: "PL", continent: "EU" } })));
    expect(pl.slice(0, 2).sort()).toEqual(["fra", "par"]);
    expect(pl.at(-1)).toBe("nowhere");
    // Invalid coordinates count as none.
    expect(ids(strategy.rank(cs, ctx({ client: { lat: Number.NaN, lon: 2, country: "US" } })))[0]).toBe("nyc");
  });

  it("with no client information: HRW among located targets (path-stable), unlocated last", () => {
    const located = [nyc, fra, par, syd].map((t) => candidate(t));
    for (const path of ["/a", "/b", "/c", "/iso/x.iso"]) {
      const got = ids(strategy.rank([candidate(nowhere), ...located], ctx({ path })));
      expect(got).toEqual([...ids(hash().rank(located, ctx({ path }))), "nowhere"]);
    }
  });

  it("bandKm lets co-located targets share a metro area's traffic", () => {
    const fra2 = target("fra2", { location: { lat: 50.05, lon: 8.57, country: "DE", continent: "EU" } });
    const cs = [fra, fra2, nyc].map((t) => candidate(t));
    const client = { ...PARIS };
    const firsts = (s: ReturnType<typeof geo>) => new Set(Array.from({ length: 200 }, (_, k) => s.rank(cs, ctx({ path: `/f${k}`, client }))[0]!.target.id));
    expect([...firsts(strategy)]).toEqual(["fra2"]); // exact distance: the nearer one takes all
    expect([...firsts(geo({ bandKm: 100 }))].sort()).toEqual(["fra", "fra2"]);
  });
});
