/**
 * Least loaded: lowest reported load per unit of weight first (a node with
 * twice the weight is "as busy" at twice the load).
 *
 * Ties — common: idle pools report 0 everywhere — are broken by the path's
 * HRW order, not by list position, so equal targets share the traffic and a
 * given file still lands on the same cache. Breaking ties by position would
 * herd every request onto the first target.
 *
 * Loads are reports, so they lag: between two reports every request sees the
 * same minimum and goes to it. When reports are slow relative to the request
 * rate, p2c (which only compares two random targets) herds far less.
 */

import { hrwKey } from "./hrw";
import { costOf, loadOf, weightsOf } from "./inputs";
import { orderBy } from "./order";
import type { Candidate, SelectContext, Strategy } from "./types";

export function leastLoaded(): Strategy {
  return Object.freeze({
    name: "least-loaded" as const,
    byPathAlone: true,
    rank(candidates: readonly Candidate[], ctx: SelectContext): Candidate[] {
      const w = weightsOf(candidates);
      return orderBy(candidates, (c, i) => [
        costOf(loadOf(c.state), w[i]!),
        ...hrwKey(c.target.id, ctx.path, w[i]!),
      ]);
    },
  });
}
