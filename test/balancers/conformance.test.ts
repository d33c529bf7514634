// One contract, every strategy: the promises the base worker relies on no
// matter which strategy is configured. Per-strategy promises live in
// <strategy>.test.ts.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { eligible } from "../../src/balancers/eligibility";
import { select, strategyByName } from "../../src/balancers/select";
import { STRATEGY_NAMES } from "../../src/config/strategy-names";
import type { TargetState } from "../../src/balancers/types";
import { arbCtx, arbPool, candidate, ctx, ctxOf, ids, target, type Pool } from "./support";

const stateIn = (p: Pool) => (id: string): TargetState => p.states.get(id)!;

describe("STRATEGY_NAMES / strategyByName", () => {
  it("lists each strategy once and builds one with that name", () => {
    expect(new Set(STRATEGY_NAMES).size).toBe(8);
    for (const name of STRATEGY_NAMES) expect(strategyByName(name).name).toBe(name);
  });

  it("rejects unknown names and bad options when created", () => {
    expect(() => strategyByName("fastest" as never)).toThrow(/unknown balancing strategy "fastest"/);
    expect(() => strategyByName("bounded-hash", { boundedHash: { epsilon: -1 } })).toThrow(/epsilon/);
    expect(() => strategyByName("geo", { geo: { bandKm: Number.NaN } })).toThrow(/bandKm/);
    expect(() => strategyByName("network", { network: { nearFactor: 0.5 } })).toThrow(/nearFactor/);
    expect(() => strategyByName("network", { network: { nearKm: -1 } })).toThrow(/nearKm/);
  });
});

describe.each(STRATEGY_NAMES)("strategy %s: shared contract", (name) => {
  const strategy = strategyByName(name);

  it("rank returns a permutation of the candidates, without mutating them (1..50 targets)", () => {
    fc.assert(
      fc.property(arbPool, arbCtx, (p, c) => {
        const { candidates } = eligible(p.targets, c.path, stateIn(p));
        const all = p.targets.map((t) => ({ target: t, state: p.states.get(t.id)! })); // ignore eligibility: any input
        for (const input of [candidates, all]) {
          const before = [...input];
          const out = strategy.rank(input, ctxOf(c));
          expect(out).toHaveLength(input.length);
          expect(new Set(out).size).toBe(out.length);
          for (const x of out) expect(input).toContain(x);
          expect(input).toEqual(before);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("select never chooses an excluded target, and accounts for every target once", () => {
    fc.assert(
      fc.property(arbPool, arbCtx, (p, c) => {
        const sel = select(strategy, p.targets, stateIn(p), ctxOf(c));
        const excludedIds = new Set(ids(sel.excluded));
        expect(sel.ranked[0] ?? null).toBe(sel.chosen);
        expect(sel.ranked.length + sel.excluded.length).toBe(p.targets.length);
        for (const t of sel.ranked) {
          expect(excludedIds.has(t.id)).toBe(false);
          expect(p.states.get(t.id)!.healthy).toBe(true);
        }
        for (const e of sel.excluded) expect(e.reason.length).toBeGreaterThan(0);
        if (sel.chosen) {
          expect(p.states.get(sel.chosen.id)!.healthy).toBe(true);
          expect(eligible([sel.chosen], c.path, stateIn(p)).candidates).toHaveLength(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("never ranks a target that declares it does not serve the client's address family", () => {
    fc.assert(
      fc.property(arbPool, arbCtx, (p, c) => {
        const sel = select(strategy, p.targets, stateIn(p), ctxOf(c));
        const family = c.client?.family;
        for (const t of sel.ranked) {
          if (family === 6) expect(t.ipv6).not.toBe(false);
          if (family === 4) expect(t.ipv4).not.toBe(false);
        }
        for (const t of p.targets) {
          const refused = (family === 6 && t.ipv6 === false) || (family === 4 && t.ipv4 === false);
          const covered = eligible([t], c.path, () => ({ healthy: true })).candidates.length === 1;
          if (refused && covered) expect(sel.excluded).toContainEqual({ target: t, reason: `does not serve IPv${family} clients` });
        }
      }),
      { numRuns: 200 },
    );
  });

  it("0 candidates: chosen is null and every target is excluded with its reason", () => {
    const down = target("a", { prefixes: ["/iso/"] });
    const elsewhere = target("b", { prefixes: ["/video/"] });
    const sel = select(strategy, [down, elsewhere], (id) => (id === "a" ? { healthy: false, reason: "down: 3 failed checks" } : { healthy: true }), ctx());
    expect(sel.chosen).toBeNull();
    expect(sel.ranked).toEqual([]);
    expect(sel.excluded).toEqual([
      { target: down, reason: "down: 3 failed checks" },
      { target: elsewhere, reason: "does not hold /iso/x.iso (prefixes /video/)" },
    ]);
    expect(select(strategy, [], () => ({ healthy: true }), ctx())).toEqual({ chosen: null, ranked: [], excluded: [] });
    expect(strategy.rank([], ctx())).toEqual([]);
  });

  it("1 candidate: it is chosen, whatever its load, weight or location", () => {
    const only = target("only", { weight: 0 });
    const sel = select(strategy, [only, target("down")], (id) => (id === "only" ? { healthy: true, load: 1e6 } : { healthy: false }), ctx({ sequence: 7 }));
    expect(sel.chosen).toBe(only);
    expect(sel.ranked).toEqual([only]);
    expect(sel.excluded).toEqual([{ target: sel.excluded[0]!.target, reason: "unhealthy" }]);
    expect(strategy.rank([candidate(only)], ctx({ client: { lat: 1, lon: 1 } }))).toHaveLength(1);
  });

  it("is deterministic: identical inputs (same random sequence) give the identical order", () => {
    fc.assert(
      fc.property(arbPool, arbCtx, (p, c) => {
        const a = select(strategy, p.targets, stateIn(p), ctxOf(c));
        const b = select(strategy, p.targets, stateIn(p), ctxOf(c));
        expect(ids(b.ranked)).toEqual(ids(a.ranked));
        expect(b.excluded).toEqual(a.excluded);
      }),
      { numRuns: 200 },
    );
  });

  it("byPathAlone: the order is the same for any client, random source, sequence and time (the base keeps it per path)", () => {
    fc.assert(
      fc.property(arbPool, arbCtx, arbCtx, (p, c, other) => {
        const { candidates } = eligible(p.targets, c.path, stateIn(p));
        const a = strategy.rank(candidates, ctxOf(c));
        const b = strategy.rank(candidates, { ...ctxOf({ ...other, path: c.path }), now: 1 });
        if (strategy.byPathAlone) expect(ids(b)).toEqual(ids(a));
      }),
      { numRuns: 200 },
    );
  });

  it("survives a faulty random source and out-of-range numbers without NaN orders", () => {
    const cs = [candidate(target("a", { weight: Number.NaN })), candidate(target("b", { weight: -3 }), { load: Number.POSITIVE_INFINITY }), candidate(target("c"))];
    for (const r of [() => Number.NaN, () => 1, () => -0.5]) {
      const out = strategy.rank(cs, ctx({ random: r, sequence: Number.NaN, client: { lat: 200, lon: 0 } }));
      expect(new Set(out).size).toBe(3);
    }
  });
});

describe("eligible", () => {
  it("matches prefixes on segment boundaries", () => {
    const t = (p: string) => target(p, { prefixes: [p] });
    const { candidates, excluded } = eligible([t("/iso/"), t("/iso"), t("/is"), t("/"), target("none", { prefixes: [] })], "/iso/x.iso", () => ({ healthy: true }));
    expect(ids(candidates)).toEqual(["/iso/", "/iso", "/"]);
    expect(excluded.map((e) => e.reason)).toEqual(["does not hold /iso/x.iso (prefixes /is)", "does not hold /iso/x.iso (no prefixes)"]);
    expect(ids(eligible([t("/iso")], "/isolinux/a", () => ({ healthy: true })).candidates)).toEqual([]);
    expect(ids(eligible([t("/iso")], "/iso", () => ({ healthy: true })).candidates)).toEqual(["/iso"]);
  });

  it("passes health through untouched: state in, reason out", () => {
    const state = { healthy: true, load: 3, reportedAt: 5 };
    const { candidates } = eligible([target("a")], "/x", () => state);
    expect(candidates[0]!.state).toBe(state);
  });
});
