/**
 * Weighted random: the first choice has probability weight / total weight,
 * and the rest follow as weighted draws without replacement.
 *
 * Rather than n successive draws over shrinking totals (O(n^2)), each
 * candidate draws an exponential "arrival time" with rate = its weight,
 * -ln(u) / w, and the order of arrivals is the answer (Efraimidis & Spirakis,
 * "Weighted random sampling with a reservoir", 2006): the first arrival is i
 * with probability w_i / W, and by memorylessness the next ones are the same
 * draw over the remaining weights. One random number per candidate, O(n log n).
 */

import { draw, weightsOf } from "./inputs";
import { orderBy } from "./order";
import type { Candidate, SelectContext, Strategy } from "./types";

export function weighted(): Strategy {
  return Object.freeze({
    name: "weighted" as const,
    byPathAlone: false,
    rank(candidates: readonly Candidate[], ctx: SelectContext): Candidate[] {
      const w = weightsOf(candidates);
      const u = candidates.map(() => draw(ctx.random));
      // Zero weight (or u = 0) arrives at Infinity; u then orders those
      // last-resort targets uniformly at random among themselves.
      return orderBy(candidates, (_, i) => {
        const time = w[i]! > 0 && u[i]! > 0 ? -Math.log(u[i]!) / w[i]! : Number.POSITIVE_INFINITY;
        return [time, u[i]!];
      });
    },
  });
}
