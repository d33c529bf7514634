/**
 * How strategies read the numbers they are given. Weights and loads come from
 * configuration and from nodes' reports, so they are sanitised here, once:
 * a NaN reaching a sort comparator would make the order depend on the engine's
 * sort algorithm instead of the data.
 */

import type { Candidate, TargetState } from "./types";

/**
 * Weights usable as rates: not finite or <= 0 becomes 0 ("last resort").
 * When every weight is 0 they all count as 1, so a pool made only of
 * last-resort targets is still shared instead of collapsing onto one.
 */
export function weightsOf(candidates: readonly Candidate[]): number[] {
  const w = candidates.map((c) => (Number.isFinite(c.target.weight) && c.target.weight > 0 ? c.target.weight : 0));
  return w.some((x) => x > 0) ? w : w.map(() => 1);
}

/**
 * Reported load; missing, negative or not finite counts as 0 (unknown is
 * treated as idle). Reports arrive as JSON, which cannot carry Infinity, so a
 * non-finite value is a bug upstream, and letting it through would turn sums
 * and capacities into NaN.
 */
export function loadOf(state: TargetState): number {
  const load = state.load;
  return typeof load === "number" && Number.isFinite(load) && load >= 0 ? load : 0;
}

/**
 * Load per unit of weight, the quantity least-loaded and p2c compare.
 * A zero weight costs Infinity so that target is only used when nothing else is.
 */
export function costOf(load: number, weight: number): number {
  return weight > 0 ? load / weight : Number.POSITIVE_INFINITY;
}

/** One draw from the injected source, forced into [0,1) so a faulty source cannot yield NaN keys. */
export function draw(random: () => number): number {
  const r = random();
  return r >= 0 && r < 1 ? r : 0;
}

/**
 * Index drawn with probability proportional to weights[i], skipping `skip`.
 * Falls back to uniform over the others when their weights sum to 0.
 */
export function pickWeighted(weights: readonly number[], r: number, skip = -1): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) if (i !== skip) total += weights[i]!;
  const uniform = total <= 0;
  if (uniform) total = weights.length - (skip >= 0 ? 1 : 0);
  let x = r * total;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    if (i === skip) continue;
    const w = uniform ? 1 : weights[i]!;
    if (w <= 0) continue;
    last = i;
    if (x < w) return i;
    x -= w;
  }
  return last; // r * total rounded up to total: the last eligible index.
}
