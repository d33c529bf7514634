// The one rise/fall health model (HAProxy's), pure: no registry, no clock.
import { describe, expect, it } from "vitest";
import { step, unchecked, type CheckResult, type RiseFallRules, type RiseFallState } from "../../src/health/rise-fall";

const words: RiseFallRules["words"] = (healthy, n, c) => `${healthy ? "up" : "down"} ${n} ${c.source} ${c.detail}`;
const rules = (rise: number, fall: number): RiseFallRules => ({ rise, fall, words });
const good = (at: number, detail = "200"): CheckResult & { at: number } => ({ ok: true, detail, source: "active", at });
const bad = (at: number, detail = "503", source: "active" | "passive" = "active"): CheckResult & { at: number } => ({ ok: false, detail, source, at });

/** Runs checks in order; returns the last state and every flip. */
function run(checks: Array<CheckResult & { at: number }>, r: RiseFallRules, from: RiseFallState = unchecked(0)) {
  let state = from;
  const flips = [];
  for (const c of checks) {
    const out = step(state, c, r);
    state = out.state;
    if (out.flip) flips.push(out.flip);
  }
  return { state, flips };
}

describe("rise/fall", () => {
  it("starts up, never checked", () => {
    expect(unchecked(5)).toEqual({ healthy: true, reason: "", successes: 0, failures: 0, checkedAt: 0, changedAt: 5 });
  });

  it("goes down after fall consecutive failures, with the transition's reason and time", () => {
    const { state, flips } = run([bad(1), bad(2), bad(3, "timeout")], rules(2, 3));
    expect(flips).toEqual([{ at: 3, healthy: false, reason: "down 3 active timeout" }]);
    expect(state).toEqual({ healthy: false, reason: "down 3 active timeout", successes: 0, failures: 3, checkedAt: 3, changedAt: 3 });
  });

  it("comes back after rise consecutive successes", () => {
    const down = run([bad(1)], rules(2, 1)).state;
    const { state, flips } = run([good(2), good(3, "204")], rules(2, 1), down);
    expect(flips).toEqual([{ at: 3, healthy: true, reason: "up 2 active 204" }]);
    expect(state).toMatchObject({ healthy: true, successes: 2, failures: 0, changedAt: 3, checkedAt: 3 });
  });

  it("counts consecutive results only: one the other way starts again", () => {
    const { state, flips } = run([bad(1), good(2), bad(3), good(4), bad(5)], rules(1, 2));
    expect(flips).toEqual([]);
    expect(state).toMatchObject({ healthy: true, failures: 1, successes: 0 });
    const down = run([bad(1), bad(2)], rules(3, 2)).state;
    expect(run([good(3), good(4), bad(5), good(6), good(7)], rules(3, 2), down).flips).toEqual([]);
  });

  it("one transition per change: more failures while down, more successes while up flip nothing", () => {
    const { flips, state } = run([bad(1), bad(2), bad(3), good(4), good(5)], rules(1, 1));
    expect(flips.map((f) => f.healthy)).toEqual([false, true]);
    expect(state.successes).toBe(2);
  });

  it("keeps the last failure as the reason while up, and the reason it went down for while down", () => {
    expect(run([bad(1, "refused", "passive")], rules(1, 3)).state.reason).toBe("passive: refused");
    expect(run([bad(1, "refused"), bad(2, "timeout")], rules(1, 1)).state.reason).toBe("down 1 active refused");
    // A success while up leaves the last failure visible (it explains the counts).
    expect(run([bad(1, "refused"), good(2)], rules(1, 3)).state.reason).toBe("active: refused");
  });

  it("keeps a registry's own fields and leaves the given state untouched", () => {
    const before = { ...unchecked(0), load: 0.5, admin: "drain" };
    const { state } = step(before, bad(1), rules(1, 1));
    expect(state).toMatchObject({ load: 0.5, admin: "drain", healthy: false });
    expect(before).toEqual({ ...unchecked(0), load: 0.5, admin: "drain" });
  });
});
