/**
 * Round-robin: the candidate list rotated by the caller's counter, so
 * consecutive requests start at consecutive targets. Weights are ignored on
 * purpose — this is the "spread evenly, no state" baseline; use weighted for
 * proportional shares.
 *
 * The counter lives with the caller (e.g. a Durable Object or a per-isolate
 * counter passed in), not here: module state would be shared across requests
 * and is reset whenever the isolate is.
 * Input order is the rotation order; when the candidate set changes (a target
 * goes down) the rotation shifts, which round-robin cannot avoid and does not
 * need to: it promises evenness, not stickiness (that is hash's job).
 */

import type { Candidate, SelectContext, Strategy } from "./types";

export function roundRobin(): Strategy {
  return Object.freeze({
    name: "round-robin" as const,
    byPathAlone: false,
    rank(candidates: readonly Candidate[], ctx: SelectContext): Candidate[] {
      const n = candidates.length;
      if (n === 0) return [];
      const seq = Number.isFinite(ctx.sequence) ? Math.floor(ctx.sequence) : 0;
      const start = ((seq % n) + n) % n; // negative counters rotate too
      return [...candidates.slice(start), ...candidates.slice(0, start)];
    },
  });
}
