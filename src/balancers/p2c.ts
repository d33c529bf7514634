/**
 * Power of two choices (Mitzenmacher, "The Power of Two Choices in
 * Randomized Load Balancing", 2001): draw two distinct candidates at random
 * (weighted), take the one with the lower load per weight. Placing n requests
 * on n targets this way gives a maximum load of ln ln n / ln 2 + O(1) instead
 * of ≈ ln n / ln ln n for one random choice — and, unlike least-loaded, it
 * does not send every request to the same minimum while load reports lag.
 *
 * After the winner, the rest (the loser included) are ordered by load per
 * weight, ties by the path's HRW order: fallbacks go to the least busy.
 * Uses exactly two draws from ctx.random when there are two or more candidates.
 */

import { hrwKey } from "./hrw";
import { costOf, draw, loadOf, pickWeighted, weightsOf } from "./inputs";
import { orderBy } from "./order";
import type { Candidate, SelectContext, Strategy } from "./types";

export function p2c(): Strategy {
  return Object.freeze({
    name: "p2c" as const,
    byPathAlone: false,
    rank(candidates: readonly Candidate[], ctx: SelectContext): Candidate[] {
      if (candidates.length < 2) return [...candidates];
      const w = weightsOf(candidates);
      const cost = candidates.map((c, i) => costOf(loadOf(c.state), w[i]!));
      const a = pickWeighted(w, draw(ctx.random));
      const b = pickWeighted(w, draw(ctx.random), a);
      // On a tie the first draw wins: it is already random, so no bias to a list position.
      const winner = cost[b]! < cost[a]! ? b : a;
      return orderBy(candidates, (c, i) => [i === winner ? 0 : 1, cost[i]!, ...hrwKey(c.target.id, ctx.path, w[i]!)]);
    },
  });
}
