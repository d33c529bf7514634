/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam,
 * "Consistent Hashing with Bounded Loads", SODA 2018; arXiv 2017): walk the
 * path's HRW order and take the first target that is under its capacity.
 * Paths keep their home target while loads are even (cache locality, as in
 * hash), and a hot file spills over to its next HRW choices instead of piling
 * onto one node.
 *
 * Capacity, counting the request being placed (the paper's m + 1):
 *   cap_i = ceil((1 + ε) · (L + 1) · w_i / W)     L = Σ loads, W = Σ weights
 * and target i is under capacity when load_i + 1 <= cap_i. With equal weights
 * this is the paper's ceil((1+ε)·average). Some target always qualifies: if
 * every load_i >= cap_i then L >= (1+ε)(L+1) > L. So after placing, no target
 * exceeds its cap — the promise the tests check.
 *
 * state.load is read as a count of in-flight requests (the paper's model,
 * and what the "+ 1" means). Utilisation fractions (0..1) do not fit this
 * rule: use least-loaded or p2c for those.
 *
 * Ranking: under-capacity targets in HRW order, then the rest in HRW order,
 * so fallbacks are stable as well.
 */

import { hrwKey } from "./hrw";
import { loadOf, weightsOf } from "./inputs";
import { orderBy } from "./order";
import type { Candidate, SelectContext, Strategy } from "./types";

export interface BoundedHashOptions {
  /** Allowed overload above the weighted average, ε >= 0; default 0.25. Smaller = more even, fewer cache hits. */
  epsilon?: number;
}

export const DEFAULT_EPSILON = 0.25;

export function boundedHash(options: BoundedHashOptions = {}): Strategy {
  // Checked once, when the strategy is created, not on every request.
  const epsilon = options.epsilon ?? DEFAULT_EPSILON;
  if (!Number.isFinite(epsilon) || epsilon < 0) {
    throw new RangeError(`bounded-hash: epsilon must be a finite number >= 0, got ${String(options.epsilon)}`);
  }
  return Object.freeze({
    name: "bounded-hash" as const,
    byPathAlone: true,
    rank(candidates: readonly Candidate[], ctx: SelectContext): Candidate[] {
      const w = weightsOf(candidates);
      const loads = candidates.map((c) => loadOf(c.state));
      const caps = capacities(loads, w, epsilon);
      return orderBy(candidates, (c, i) => {
        const over = loads[i]! + 1 <= caps[i]! ? 0 : 1;
        return [over, ...hrwKey(c.target.id, ctx.path, w[i]!)];
      });
    },
  });
}

/**
 * Capacity of each target before placing one more request: cap_i above.
 * Exported for callers (and tests) that report how close a target is.
 */
export function capacities(loads: readonly number[], weights: readonly number[], epsilon = DEFAULT_EPSILON): number[] {
  const totalLoad = loads.reduce((a, b) => a + b, 0);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => Math.ceil(((1 + epsilon) * (totalLoad + 1) * w) / totalWeight));
}
