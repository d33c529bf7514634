import { describe, it, expect } from "vitest";
import { boundedHash, capacities } from "../../src/balancers/bounded-hash";
import { hash } from "../../src/balancers/hash";
import type { Candidate } from "../../src/balancers/types";
import { candidate, ctx, pool, report, round, seeded, target } from "./support";

const withLoads = (base: readonly Candidate[], loads: readonly number[]) => base.map((c, i) => candidate(c.target, { load: loads[i]! }));
const index = (id: string) => Number(id.slice(1));

/**
 * Assigns `paths` one by one, each request raising its target's load by one
 * (nothing finishes), and checks the bound before every placement.
 */
function simulate(epsilon: number, weights: readonly number[], paths: readonly string[]) {
  const strategy = boundedHash({ epsilon });
  const plain = hash();
  const base = pool(weights.length, (i) => ({ weight: weights[i]! }));
  const loads = new Array<number>(weights.length).fill(0);
  let onFirstChoice = 0;
  let worstSlack = Number.POSITIVE_INFINITY; // min over placements of cap - load after placing
  for (const path of paths) {
    const caps = capacities(loads, weights, epsilon);
    const i = index(strategy.rank(withLoads(base, loads), ctx({ path }))[0]!.target.id);
    loads[i]! += 1;
    worstSlack = Math.min(worstSlack, caps[i]! - loads[i]!);
    if (i === index(plain.rank(base, ctx({ path }))[0]!.target.id)) onFirstChoice++;
  }
  return { loads, worstSlack, onFirstChoice: onFirstChoice / paths.length };
}

describe("bounded-hash (consistent hashing with bounded loads)", () => {
  it("never exceeds ceil((1+ε)·average) over 10k requests, half of them for one hot file", () => {
    const random = seeded(11);
    const paths = Array.from({ length: 10_000 }, (_, k) => (random() < 0.5 ? "/iso/hot.iso" : `/pub/f${k}`));
    const sim = simulate(0.25, new Array(10).fill(1), paths);
    const finalBound = Math.ceil(1.25 * (10_000 / 10));
    const plainMax = (() => {
      const counts = new Map<string, number>();
      for (const path of paths) {
        const id = hash().rank(pool(10), ctx({ path }))[0]!.target.id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return Math.max(...counts.values());
    })();
    report("bounded-hash hot-file simulation", { maxLoad: Math.max(...sim.loads), finalBound, plainHashMax: plainMax, worstSlack: sim.worstSlack, onFirstChoice: round(sim.onFirstChoice) });
    expect(sim.worstSlack, `cap - load after placement, worst ${sim.worstSlack}`).toBeGreaterThanOrEqual(0);
    expect(Math.max(...sim.loads)).toBeLessThanOrEqual(finalBound);
    expect(plainMax, `plain hash max ${plainMax}`).toBeGreaterThan(5000);
  });

  it("holds a tighter ε and weighted capacities too", () => {
    const paths = Array.from({ length: 10_000 }, (_, k) => (k % 3 === 0 ? "/hot" : `/f${k}`));
    const tight = simulate(0.05, new Array(10).fill(1), paths);
    const weighted = simulate(0.25, [1, 1, 2, 4], paths);
    report("bounded-hash ε=0.05 / weights 1:1:2:4", { tightMax: Math.max(...tight.loads), weightedLoads: weighted.loads, weightedSlack: weighted.worstSlack });
    expect(tight.worstSlack).toBeGreaterThanOrEqual(0);
    expect(Math.max(...tight.loads)).toBeLessThanOrEqual(Math.ceil(1.05 * 1000));
    expect(weighted.worstSlack).toBeGreaterThanOrEqual(0);
  });

  it("keeps paths on their HRW first choice when loads are even", () => {
    const strategy = boundedHash();
    const base = pool(10);
    const even = withLoads(base, new Array(10).fill(40));
    let same = 0;
    for (let k = 0; k < 10_000; k++) {
      const path = `/pub/f${k}`;
      if (strategy.rank(even, ctx({ path }))[0]!.target === hash().rank(base, ctx({ path }))[0]!.target) same++;
    }
    // And in a simulation of distinct (cold) paths, where loads stay near even.
    const sim = simulate(0.25, new Array(10).fill(1), Array.from({ length: 10_000 }, (_, k) => `/pub/g${k}`));
    report("bounded-hash locality", { evenLoadsSame: same / 10_000, coldSimulationOnFirstChoice: round(sim.onFirstChoice), maxLoad: Math.max(...sim.loads) });
    expect(same).toBe(10_000);
    expect(sim.onFirstChoice, `on first choice ${sim.onFirstChoice}`).toBeGreaterThanOrEqual(0.9);
  });

  it("skips a target at its cap and keeps the HRW order among the rest", () => {
    const strategy = boundedHash();
    const base = pool(3);
    const order = hash().rank(base, ctx()).map((c) => c.target);
    const loads = base.map((c) => (c.target === order[0] ? 10 : 0)); // cap = ceil(1.25·11/3) = 5
    const ranked = strategy.rank(withLoads(base, loads), ctx()).map((c) => c.target.id);
    expect(ranked).toEqual([order[1]!.id, order[2]!.id, order[0]!.id]);
    expect(capacities(loads, [1, 1, 1])).toEqual([5, 5, 5]);
  });

  it("reads missing loads as 0 and gives a zero-weight target no capacity", () => {
    const strategy = boundedHash();
    const cs = [candidate(target("spare", { weight: 0 })), candidate(target("a")), candidate(target("b"))];
    for (let k = 0; k < 200; k++) expect(strategy.rank(cs, ctx({ path: `/p${k}` })).at(-1)!.target.id).toBe("spare");
  });
});
