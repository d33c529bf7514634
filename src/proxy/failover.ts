/**
 * Passive health of proxy backends and the retry rules.
 *
 * A backend that refuses the connection or does not answer in time is marked down in
 * this isolate for an exponential back-off (1 s, 2 s, 4 s ... at most 60 s). When the
 * back-off ends it is half-open: exactly one request may try it; success clears the
 * mark, failure doubles the back-off. A response of any status is a success here: the
 * backend is up, and its 5xx is the client's answer (mod_proxy_core does the same).
 *
 * Marks live per isolate in a WeakMap keyed by env (no plain module state). Failures, and
 * the recovery of a marked backend, are also reported to the base's HealthRegistry (when
 * the env has HEALTH) as "passive" observations, fire-and-forget through ctx.waitUntil,
 * so logs and the admin page see them across isolates. A dead backend is reported once
 * per back-off, so HEALTH_FALL reports flip its record down; one success flips it up.
 */
import { integer } from "../config/fields";
import { perIsolate } from "../platform/per-isolate";
import { log } from "../platform/log";

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;
/** A half-open trial that never reported back (should not happen) stops blocking after this. */
const TRIAL_STALE_MS = 60_000;

export type FailureKind = "refused" | "timeout";

export interface Mark {
  failures: number;
  downUntil: number;
  kind: FailureKind;
  detail: string;
  /** When the half-open trial started; 0 = none running. */
  trialAt: number;
}

const marksOf = perIsolate((_env: object) => new Map<string, Mark>());

/** Back-off after the n-th consecutive failure: 1 s · 2^(n-1), at most 60 s. */
export function backoffMs(failures: number): number {
  if (failures < 1) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 16));
}

/** What the balancer sees: down while backing off or while another request runs the trial. */
export function passiveState(env: object, url: string, now: number): { healthy: boolean; reason?: string } {
  const m = marksOf(env).get(url);
  if (!m) return { healthy: true };
  if (now < m.downUntil) return { healthy: false, reason: `passive: ${m.detail}; ${m.failures} failure(s), retry in ${Math.ceil((m.downUntil - now) / 1000)} s` };
  if (m.trialAt && now - m.trialAt < TRIAL_STALE_MS) return { healthy: false, reason: `passive: half-open, a trial request is running (${m.detail})` };
  return { healthy: true };
}

/** Claim a backend for one attempt; false if it is backing off or its half-open trial is taken. */
export function beginAttempt(env: object, url: string, now: number): boolean {
  const m = marksOf(env).get(url);
  if (!passiveState(env, url, now).healthy) return false;
  if (m) m.trialAt = now; // half-open: this request is the trial
  return true;
}

export function recordFailure(env: object, url: string, kind: FailureKind, detail: string, now: number): Mark {
  const all = marksOf(env);
  const failures = (all.get(url)?.failures ?? 0) + 1;
  const m: Mark = { failures, downUntil: now + backoffMs(failures), kind, detail, trialAt: 0 };
  all.set(url, m);
  return m;
}

/** The backend answered. True when it had been marked (a recovery worth reporting). */
export function recordSuccess(env: object, url: string): boolean {
  return marksOf(env).delete(url);
}

/** The attempt ended through no fault of the backend (e.g. the client's upload broke). */
export function releaseTrial(env: object, url: string): void {
  const m = marksOf(env).get(url);
  if (m) m.trialAt = 0;
}

/** This isolate's marks, for logs and tests. */
export function passiveMarks(env: object): ReadonlyMap<string, Readonly<Mark>> {
  return marksOf(env);
}

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"]);

/**
 * Why a failed attempt must not be repeated on another backend, or null if it may be:
 * only idempotent methods (RFC 9110 §9.2.2) and only without a body — the body was
 * streamed to the failed backend, not buffered, so there is nothing left to replay.
 */
export function retryBlocker(method: string, hasBody: boolean): string | null {
  if (!IDEMPOTENT.has(method)) return `${method} is not idempotent (RFC 9110 §9.2.2)`;
  if (hasBody) return "its streamed request body cannot be replayed";
  return null;
}

/** Id of a backend in the HealthRegistry: apart from node and mirror ids. */
export function registryId(url: string): string {
  return `proxy:${url}`;
}

interface HealthNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { observe(o: { id: string; ok: boolean; detail: string; source: "passive" }[], t: { rise: number; fall: number }): Promise<unknown> };
}

/** Fire-and-forget report to the HealthRegistry; a no-op without a HEALTH binding. */
export function reportPassive(env: object, ctx: ExecutionContext, url: string, ok: boolean, detail: string): void {
  const ns = (env as { HEALTH?: Partial<HealthNamespace> }).HEALTH;
  if (typeof ns?.idFromName !== "function" || typeof ns.get !== "function") return;
  const health = ns as HealthNamespace;
  let fall = 2;
  try {
    fall = integer(env as Record<string, unknown>, "HEALTH_FALL", 2, 1, 100);
  } catch {
    // A bad HEALTH_FALL is reported by the base config itself.
  }
  // Successes are only reported when a marked backend answers again: one is proof enough.
  const report = health
    .get(health.idFromName("registry"))
    .observe([{ id: registryId(url), ok, detail, source: "passive" }], { rise: 1, fall })
    .catch((e: unknown) => log.error("proxy.report-failed", { backend: url, error: String(e) }));
  ctx.waitUntil(report);
}
