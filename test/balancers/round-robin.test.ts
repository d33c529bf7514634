import { describe, it, expect } from "vitest";
import { roundRobin } from "../../src/balancers/round-robin";
import { ctx, ids, pool, report, tally } from "./support";

describe("round-robin", () => {
  const rr = roundRobin();

  it("cycles evenly: over N·k calls each target is first exactly k times, weights ignored", () => {
    const n = 7;
    const k = 300;
    const cs = pool(n, (i) => ({ weight: i + 1 }));
    const firsts = Array.from({ length: n * k }, (_, seq) => rr.rank(cs, ctx({ sequence: seq }))[0]!.target.id);
    const counts = Object.values(tally(firsts));
    report("round-robin firsts per target", { n, k, min: Math.min(...counts), max: Math.max(...counts) });
    expect(counts).toHaveLength(n);
    for (const c of counts) expect(c, `count ${c} vs k=${k}`).toBe(k);
  });

  it("ranks the rotation: consecutive sequences start at consecutive targets", () => {
    const cs = pool(4);
    expect(ids(rr.rank(cs, ctx({ sequence: 0 })))).toEqual(["t0", "t1", "t2", "t3"]);
    expect(ids(rr.rank(cs, ctx({ sequence: 1 })))).toEqual(["t1", "t2", "t3", "t0"]);
    expect(ids(rr.rank(cs, ctx({ sequence: 6 })))).toEqual(["t2", "t3", "t0", "t1"]);
    expect(ids(rr.rank(cs, ctx({ sequence: -1 })))).toEqual(["t3", "t0", "t1", "t2"]);
    expect(ids(rr.rank(cs, ctx({ sequence: 2 ** 53 + 2 })))).toHaveLength(4);
  });

  it("uses no randomness", () => {
    const cs = pool(3);
    const random = () => {
      throw new Error("round-robin must not draw");
    };
    expect(ids(rr.rank(cs, ctx({ random, sequence: 5 })))).toEqual(["t2", "t0", "t1"]);
  });
});
