/**
 * The one health model of the base, used by the HealthRegistry (nodes, mirrors, proxy
 * backends) and the FarmRegistry (farm members): HAProxy's rise/fall. `fall` consecutive
 * failed checks mark a thing down, `rise` consecutive good ones bring it back; a single
 * result the other way starts the count again. Pure: the registries store the state.
 */

/** What each registry keeps per thing, besides its own fields (load, admin state, ...). */
export interface RiseFallState {
  healthy: boolean;
  /** Why it is down, or while it is up the last failure seen; "" when none. */
  reason: string;
  successes: number;
  failures: number;
  checkedAt: number;
  changedAt: number;
}

/** One check's result: an active probe, or a failure (or recovery) seen while serving. */
export interface CheckResult {
  ok: boolean;
  detail: string;
  source: "active" | "passive";
}

export interface Thresholds {
  rise: number;
  fall: number;
}

export interface Flip {
  at: number;
  healthy: boolean;
  reason: string;
}

/**
 * A transition's reason from its direction, the consecutive count that caused it and the
 * deciding check: each registry keeps its own words (logs, events and admin pages show them).
 */
export type Wording = (healthy: boolean, count: number, check: CheckResult) => string;

export interface RiseFallRules extends Thresholds {
  words: Wording;
}

/** Never checked: up, since a fresh deploy must not refuse traffic before its first check. */
export function unchecked(now: number): RiseFallState {
  return { healthy: true, reason: "", successes: 0, failures: 0, checkedAt: 0, changedAt: now };
}

/** `state` after `check` at `at`, and the transition it caused (null when none). */
export function step<S extends RiseFallState>(state: S, check: CheckResult & { at: number }, rules: RiseFallRules): { state: S; flip: Flip | null } {
  const successes = check.ok ? state.successes + 1 : 0;
  const failures = check.ok ? 0 : state.failures + 1;
  const next: S = { ...state, successes, failures, checkedAt: check.at };
  // While down, the reason stays the one it went down for.
  if (!check.ok && state.healthy) next.reason = `${check.source}: ${check.detail}`;
  const flips = check.ok ? !state.healthy && successes >= rules.rise : state.healthy && failures >= rules.fall;
  if (!flips) return { state: next, flip: null };
  const flip: Flip = { at: check.at, healthy: check.ok, reason: rules.words(check.ok, check.ok ? successes : failures, check) };
  return { state: { ...next, healthy: flip.healthy, reason: flip.reason, changedAt: flip.at }, flip };
}
