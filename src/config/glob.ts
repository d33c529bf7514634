/**
 * Path globs of OFFLOAD_INCLUDE / OFFLOAD_EXCLUDE: `*` matches any run of characters
 * (slashes included, possibly none), `?` exactly one character, anything else itself.
 * The whole path must match (the glob is anchored at both ends).
 *
 * Matched by hand, never through a RegExp: a glob such as "/*\/*\/*\/*.iso" compiled to
 * /^\/.*\/.*\/.*\/.*\.iso$/ backtracks polynomially in the path length (a 900-byte path
 * held an isolate for seconds, and a client chooses the path). This is the classic
 * two-pointer wildcard match with a single backtrack point, the last `*` seen: a later
 * `*` can absorb anything an earlier one could, so earlier choices never need revisiting.
 *
 * Bound (n = text length, m = compiled pattern length, runs of `*` collapsed to one):
 * every loop step either advances the pattern over a literal/`?`, or moves the backtrack
 * mark forward. The mark only grows and stays within 0..n (a new `*` is reached only
 * after at least one literal consumed past the mark, since stars are collapsed), so there
 * are at most n + 1 mark moves, and between two of them at most m pattern advances:
 *   steps <= (n + 2) * (m + 1) + 1.
 * With the 2048-byte path limit and short globs that is a few ten thousand steps at worst.
 * Erasable TypeScript (the local stack validates config from plain Node).
 */

export interface Glob {
  /** As configured, for logs and errors. */
  readonly source: string;
  /** `source` with runs of `*` collapsed to one (same language, and what the bound counts). */
  readonly pattern: string;
}

/** Counts matcher steps across calls, so tests can assert the bound without a clock. */
export interface StepCounter {
  steps: number;
}

export function compileGlob(source: string): Glob {
  return { source, pattern: source.replace(/\*+/g, "*") };
}

/**
 * The worst-case step count of matchGlob for a text of `textLength` against `glob`: the
 * linear bound the tests hold matchGlob to (no backtracking blow-up on hostile paths).
 * @internal exported for tests (knip --production accepts it for that reason only).
 */
export function globStepBound(glob: Glob, textLength: number): number {
  return (textLength + 2) * (glob.pattern.length + 1) + 1;
}

/** Whether the whole of `text` matches `glob`; adds the steps taken to `counter`. */
export function matchGlob(glob: Glob, text: string, counter?: StepCounter): boolean {
  const p = glob.pattern;
  let pi = 0; // next pattern character
  let ti = 0; // next text character
  let star = -1; // pattern index of the last `*` seen, -1 before the first
  let mark = 0; // text index that `*` is currently made to stop before
  let steps = 0;
  let matched: boolean | null = null;
  while (ti < text.length) {
    steps++;
    const c = p[pi];
    if (c === "*") {
      star = pi++;
      mark = ti; // try the empty run first
    } else if (c !== undefined && (c === "?" || c === text[ti])) {
      pi++;
      ti++;
    } else if (star >= 0) {
      // Mismatch after a `*`: let it absorb one more character and retry from there.
      pi = star + 1;
      ti = ++mark;
    } else {
      matched = false;
      break;
    }
  }
  if (matched === null) {
    // Text used up: what is left of the pattern must be a (collapsed) `*`, or nothing.
    if (p[pi] === "*") {
      steps++;
      pi++;
    }
    matched = pi === p.length;
  }
  if (counter) counter.steps += steps;
  return matched;
}
