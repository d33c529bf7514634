import { describe, it, expect } from "vitest";
import { weighted } from "../../src/balancers/weighted";
import { candidate, ctx, ids, pool, report, round, seeded, target } from "./support";

describe("weighted", () => {
  const strategy = weighted();
  const weights = [1, 2, 3, 4];
  const total = weights.reduce((a, b) => a + b, 0);
  const cs = pool(weights.length, (i) => ({ weight: weights[i]! }));
  const draws = 20_000;

  function run(seed: number) {
    const random = seeded(seed);
    const first = new Array<number>(weights.length).fill(0);
    const second = new Array<number>(weights.length).fill(0);
    for (let k = 0; k < draws; k++) {
      const order = strategy.rank(cs, ctx({ random, path: `/f${k}` }));
      first[Number(order[0]!.target.id.slice(1))]! += 1;
      second[Number(order[1]!.target.id.slice(1))]! += 1;
    }
    return { first, second };
  }

  it("first pick: frequency within ±5% of each weight share over 20k seeded draws", () => {
    const { first } = run(42);
    const relErr = first.map((c, i) => round(c / draws / (weights[i]! / total) - 1));
    report("weighted first-pick", { draws, counts: first, expectedShares: weights.map((w) => w / total), relErr });
    for (const e of relErr) expect(Math.abs(e), `relative error ${e}`).toBeLessThanOrEqual(0.05);
  });

  it("second pick follows weights without replacement: P(i second) = Σ_j p_j · w_i / (W - w_j), ±5%", () => {
    const { second } = run(7);
    const expected = weights.map((wi, i) =>
      weights.reduce((sum, wj, j) => (j === i ? sum : sum + (wj / total) * (wi / (total - wj))), 0),
    );
    const relErr = second.map((c, i) => round(c / draws / expected[i]! - 1));
    report("weighted second-pick", { counts: second, expected: expected.map((e) => round(e)), relErr });
    for (const e of relErr) expect(Math.abs(e), `relative error ${e}`).toBeLessThanOrEqual(0.05);
  });

  it("zero weight is a last resort: never first while a positive weight exists", () => {
    const mixed = [candidate(target("spare", { weight: 0 })), candidate(target("a")), candidate(target("b", { weight: 5 }))];
    const random = seeded(3);
    for (let k = 0; k < 2000; k++) expect(ids(strategy.rank(mixed, ctx({ random }))).at(-1)).toBe("spare");
  });

  it("an all-zero pool is shared uniformly rather than collapsing onto one target", () => {
    const zeros = pool(4, () => ({ weight: 0 }));
    const random = seeded(9);
    const counts = new Map<string, number>();
    for (let k = 0; k < 4000; k++) {
      const id = strategy.rank(zeros, ctx({ random }))[0]!.target.id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const c = [...counts.values()];
    report("weighted all-zero firsts", { counts: c });
    expect(c).toHaveLength(4);
    for (const x of c) expect(x, `count ${x} of 4000`).toBeGreaterThan(850);
  });
});
