import { describe, it, expect } from "vitest";
import { p2c } from "../../src/balancers/p2c";
import { weighted } from "../../src/balancers/weighted";
import type { Strategy } from "../../src/balancers/types";
import { candidate, ctx, ids, pool, report, round, seeded, target } from "./support";

/** Balls into bins: each ball goes where the strategy says, given the current loads. */
function ballsIntoBins(strategy: Strategy, balls: number, bins: number, seed: number): number[] {
  const base = pool(bins);
  const loads = new Array<number>(bins).fill(0);
  const random = seeded(seed);
  for (let k = 0; k < balls; k++) {
    const cs = base.map((c, i) => candidate(c.target, { load: loads[i]! }));
    loads[Number(strategy.rank(cs, ctx({ random, path: `/b${k}` }))[0]!.target.id.slice(1))]! += 1;
  }
  return loads;
}

describe("p2c (power of two choices)", () => {
  const strategy = p2c();

  it("10k balls into 100 bins: max load far below weighted random's", () => {
    const two = ballsIntoBins(strategy, 10_000, 100, 5);
    const one = ballsIntoBins(weighted(), 10_000, 100, 5);
    const stats = (l: number[]) => ({ max: Math.max(...l), min: Math.min(...l), sd: round(Math.sqrt(l.reduce((s, x) => s + (x - 100) ** 2, 0) / l.length), 2) });
    report("balls-into-bins (avg 100)", { p2c: stats(two), weighted: stats(one) });
    expect(two.reduce((a, b) => a + b, 0)).toBe(10_000);
    // Excess over the average: p2c O(ln ln n), one choice O(sqrt(m/n · ln n)).
    expect(Math.max(...two) - 100, `p2c excess ${Math.max(...two) - 100}`).toBeLessThanOrEqual(5);
    expect(Math.max(...one) - 100, `weighted excess ${Math.max(...one) - 100}`).toBeGreaterThanOrEqual(4 * (Math.max(...two) - 100));
  });

  it("of two candidates, the lower load / weight always wins", () => {
    const cs = [candidate(target("busy"), { load: 9 }), candidate(target("calm", { weight: 2 }), { load: 12 })];
    const random = seeded(1);
    for (let k = 0; k < 500; k++) expect(ids(strategy.rank(cs, ctx({ random })))).toEqual(["calm", "busy"]);
  });

  it("the uniquely most loaded of n >= 2 is never chosen; the rest follow by load", () => {
    const cs = pool(6).map((c, i) => candidate(c.target, { load: i === 2 ? 50 : i }));
    const random = seeded(2);
    const firsts = new Set<string>();
    for (let k = 0; k < 3000; k++) {
      const order = strategy.rank(cs, ctx({ random, path: `/p${k}` }));
      firsts.add(order[0]!.target.id);
      const rest = order.slice(1).map((c) => c.state.load!);
      expect(rest).toEqual([...rest].sort((a, b) => a - b));
    }
    expect(firsts.has("t2")).toBe(false);
    expect(firsts.size).toBe(5);
  });

  it("samples by weight: equal loads give shares close to weights; weight 0 is never sampled", () => {
    const cs = [candidate(target("a")), candidate(target("b", { weight: 3 })), candidate(target("spare", { weight: 0 }))];
    const random = seeded(4);
    let b = 0;
    for (let k = 0; k < 20_000; k++) {
      const first = strategy.rank(cs, ctx({ random }))[0]!.target.id;
      expect(first).not.toBe("spare");
      if (first === "b") b++;
    }
    report("p2c equal-load share of weight-3 target (ideal 0.75)", { share: b / 20_000 });
    expect(Math.abs(b / 20_000 - 0.75), `share ${b / 20_000}`).toBeLessThanOrEqual(0.0375);
  });
});
