/**
 * Decorate-sort-undecorate by a tuple of numbers, ascending. Each strategy
 * states its preference as a key, e.g. [load / weight, ...hrwKey]; computing
 * keys once keeps hashing out of the comparator (n hashes, not n log n).
 * Ties keep input order: Array.prototype.sort is stable (ES2019).
 */

import type { Candidate } from "./types";

export function orderBy(
  candidates: readonly Candidate[],
  key: (candidate: Candidate, index: number) => readonly number[],
): Candidate[] {
  const keyed = candidates.map((candidate, i) => ({ candidate, key: key(candidate, i) }));
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  return keyed.map((k) => k.candidate);
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a.length - b.length;
}
