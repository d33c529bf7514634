/**
 * The Prometheus counters one final answer adds to (issue #15 part 2), read from the same
 * profile as the offload totals (classify.ts `answerProfile`: status and the answer's
 * Cache-Status member, RFC 9211). Pure, so every shape is unit-tested without a binding.
 *
 * Bytes: `bytes` is what the answer moved: the body bytes its client actually pulled
 * (platform/counted-body.ts, issue #15 part 1), not the declared Content-Length.
 */
import { seriesKey, type CounterLabels, type CounterName } from "./counters";
import type { AnswerProfile } from "./classify";

export interface CountedEvent {
  name: CounterName;
  labels: CounterLabels;
  n: number;
  /** seriesKey(name, labels), computed once per profile rather than per answer. */
  key: string;
}

const event = (name: CounterName, labels: CounterLabels, n: number): CountedEvent => ({ name, labels, n, key: seriesKey(name, labels) });

/**
 * The counters every answer with this profile and status adds whatever its bytes: the
 * recorder keeps them with the profile. The bytes counter is `bytesEvent`, per answer.
 */
export function fixedEvents(profile: AnswerProfile, status: number): CountedEvent[] {
  const events = [event("offload_answers_total", { cache_status: profile.cacheClass, code: String(status) }, 1)];
  if (profile.kind === "refused") events.push(event("offload_guard_refusals_total", {}, 1));
  if (profile.originError) events.push(event("offload_origin_errors_total", { answer: profile.originError }, 1));
  return events;
}

const BYTES_KEYS = { copy: seriesKey("offload_served_bytes_total", { source: "copy" }), origin: seriesKey("offload_served_bytes_total", { source: "origin" }) };

/** The bytes counter of one answer that moved `bytes` body bytes from `source`. */
export function bytesEvent(source: "copy" | "origin", bytes: number): CountedEvent {
  return { name: "offload_served_bytes_total", labels: { source }, n: bytes, key: BYTES_KEYS[source] };
}
