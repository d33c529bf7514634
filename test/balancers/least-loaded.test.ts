import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { leastLoaded } from "../../src/balancers/least-loaded";
import { candidate, ctx, ids, pool, report, target } from "./support";

const strategy = leastLoaded();

describe("least-loaded", () => {
  it("picks the minimum load / weight, and orders the rest by it", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ load: fc.nat(100), weight: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 30 }), (xs) => {
        const cs = xs.map((x, i) => candidate(target(`t${i}`, { weight: x.weight }), { load: x.load }));
        const cost = (id: string) => xs[Number(id.slice(1))]!.load / xs[Number(id.slice(1))]!.weight;
        const costs = ids(strategy.rank(cs, ctx())).map(cost);
        expect(costs[0]).toBe(Math.min(...xs.map((x) => x.load / x.weight)));
        for (let i = 1; i < costs.length; i++) expect(costs[i]!).toBeGreaterThanOrEqual(costs[i - 1]!);
      }),
    );
  });

  it("weight counts: 10 active on weight 2 beats 6 on weight 1; missing load is 0", () => {
    const cs = [candidate(target("small"), { load: 6 }), candidate(target("big", { weight: 2 }), { load: 10 })];
    expect(ids(strategy.rank(cs, ctx()))).toEqual(["big", "small"]);
    const withIdle = [...cs, candidate(target("idle"))];
    expect(ids(strategy.rank(withIdle, ctx()))[0]).toBe("idle");
  });

  it("ties break by the path's HRW order: no herding, same file same target", () => {
    const cs = pool(5).map((c) => candidate(c.target, { load: 3 }));
    const counts = new Map<string, number>();
    for (let k = 0; k < 5000; k++) {
      const path = `/f${k}`;
      const first = strategy.rank(cs, ctx({ path }))[0]!.target.id;
      expect(strategy.rank([...cs].reverse(), ctx({ path }))[0]!.target.id).toBe(first);
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    const c = [...counts.values()];
    report("least-loaded tie spread (5 targets, 5000 paths)", { counts: c });
    expect(c).toHaveLength(5);
    for (const x of c) expect(x, `count ${x} of 5000`).toBeGreaterThan(850);
  });
});
