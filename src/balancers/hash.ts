/**
 * Hash (rendezvous / HRW) of the request path: every request for a file goes
 * to the same target while the pool is stable, so each target's cache holds a
 * distinct slice of the catalogue instead of every cache holding everything
 * (CARP-style cache locality). Removing one of N targets moves only the ≈1/N
 * of paths it held; adding one moves ≈1/(N+1), all onto the newcomer.
 * The full order is the HRW order, so the fallback for a path is stable too.
 * Loads are ignored: use bounded-hash when a hot file must not sink one node.
 */

import { hrwKey } from "./hrw";
import { weightsOf } from "./inputs";
import { orderBy } from "./order";
import type { Candidate, SelectContext, Strategy } from "./types";

export function hash(): Strategy {
  return Object.freeze({
    name: "hash" as const,
    byPathAlone: true,
    rank(candidates: readonly Candidate[], ctx: SelectContext): Candidate[] {
      const w = weightsOf(candidates);
      return orderBy(candidates, (c, i) => hrwKey(c.target.id, ctx.path, w[i]!));
    },
  });
}
