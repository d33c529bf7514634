import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { hash } from "../../src/balancers/hash";
import { hash52, unitHash } from "../../src/balancers/hrw";
import type { Candidate } from "../../src/balancers/types";
import { ctx, ids, pool, report, round, seeded, shuffled } from "./support";

const strategy = hash();
const PATHS = 20_000;
const paths = Array.from({ length: PATHS }, (_, i) => `/pub/dist/${i % 97}/file-${i}.tar.xz`);
const assign = (cs: readonly Candidate[]) => paths.map((path) => strategy.rank(cs, ctx({ path }))[0]!.target.id);

describe("hash (rendezvous)", () => {
  it("same path → same target, independent of candidate order and of randomness", () => {
    const cs = pool(10);
    fc.assert(
      fc.property(fc.string(), fc.integer(), (s, seed) => {
        const path = `/iso/${s}`;
        const reordered = shuffled(cs, seeded(seed));
        const a = ids(strategy.rank(cs, ctx({ path })));
        expect(ids(strategy.rank(reordered, ctx({ path, random: seeded(seed), sequence: seed })))).toEqual(a);
      }),
    );
  });

  it("spreads 20k paths over 10 targets within ±15% of even", () => {
    const counts = new Map<string, number>();
    for (const id of assign(pool(10))) counts.set(id, (counts.get(id) ?? 0) + 1);
    const c = [...counts.values()];
    const even = PATHS / 10;
    report("hash spread", { counts: c, min: Math.min(...c) / even, max: Math.max(...c) / even });
    expect(c).toHaveLength(10);
    for (const x of c) expect(Math.abs(x / even - 1), `count ${x} vs ${even}`).toBeLessThanOrEqual(0.15);
  });

  it("removing one of 10 moves 8–12% of paths, and only those that were on it", () => {
    const cs = pool(10);
    const before = assign(cs);
    const after = assign(cs.filter((c) => c.target.id !== "t3"));
    let moved = 0;
    for (let i = 0; i < PATHS; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      expect(before[i], `path ${paths[i]} moved from ${before[i]}`).toBe("t3");
    }
    const onRemoved = before.filter((id) => id === "t3").length;
    report("hash remove 1 of 10", { moved, fraction: moved / PATHS, onRemoved });
    expect(moved).toBe(onRemoved);
    expect(moved / PATHS, `moved fraction ${moved / PATHS}`).toBeGreaterThanOrEqual(0.08);
    expect(moved / PATHS, `moved fraction ${moved / PATHS}`).toBeLessThanOrEqual(0.12);
  });

  it("adding an 11th target moves ≈1/11 of paths, all onto the newcomer", () => {
    const cs = pool(11);
    const before = assign(cs.slice(0, 10));
    const after = assign(cs);
    let moved = 0;
    for (let i = 0; i < PATHS; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      expect(after[i], `path ${paths[i]} moved to ${after[i]}`).toBe("t10");
    }
    report("hash add 11th", { moved, fraction: round(moved / PATHS), ideal: round(1 / 11) });
    expect(Math.abs(moved / PATHS - 1 / 11), `moved fraction ${moved / PATHS}`).toBeLessThanOrEqual(0.015);
  });

  it("weights set each target's share of paths", () => {
    const cs = pool(3, (i) => ({ weight: [1, 1, 2][i]! }));
    const counts = [0, 0, 0];
    for (const id of assign(cs)) counts[Number(id.slice(1))]! += 1;
    const shares = counts.map((c) => round(c / PATHS));
    report("hash weighted shares (1:1:2)", { shares });
    expect(Math.abs(shares[0]! - 0.25), `share ${shares[0]}`).toBeLessThanOrEqual(0.02);
    expect(Math.abs(shares[1]! - 0.25), `share ${shares[1]}`).toBeLessThanOrEqual(0.02);
    expect(Math.abs(shares[2]! - 0.5), `share ${shares[2]}`).toBeLessThanOrEqual(0.02);
  });

  it("the hash stays inside 52 bits and unitHash inside (0,1), and is well spread", () => {
    const buckets = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) {
      const h = hash52(`t${i % 10}\n/p/${i}`);
      expect(Number.isSafeInteger(h) && h >= 0 && h < 2 ** 52).toBe(true);
      buckets[Math.floor(unitHash(`k${i}`) * 64)]! += 1;
    }
    // Chi-square with 63 degrees of freedom: 99.9% quantile ≈ 103.4.
    const chi2 = buckets.reduce((s, b) => s + (b - 1000) ** 2 / 1000, 0);
    report("hash chi-square (64 buckets)", { chi2: round(chi2, 1) });
    expect(chi2, `chi2 ${chi2}`).toBeLessThan(103.4);
    expect(hash52("")).toBe(hash52(""));
    expect(hash52("a\nb/x")).not.toBe(hash52("ab\n/x"));
  });
});
