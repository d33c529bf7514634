/**
 * The Prometheus counters one final answer adds to (issue #15 part 2), read from the same
 * classification as the offload totals (classify.ts) and the answer's Cache-Status
 * member (RFC 9211). Pure, so every shape is unit-tested without a binding.
 *
 * Bytes: `bytes` is what the answer moved: the body bytes its client actually pulled
 * (platform/counted-body.ts, issue #15 part 1), not the declared Content-Length.
 */
import { CACHE_STATUS_CLASSES, type CacheStatusClass, type CounterLabels, type CounterName } from "./counters";
import { lastCacheStatusMember, type Served } from "./classify";

export interface CountedEvent {
  name: CounterName;
  labels: CounterLabels;
  n: number;
}

type Member = ReturnType<typeof lastCacheStatusMember>;

function ourMember(headers: Headers): Member {
  const value = headers.get("cache-status");
  return value === null ? null : lastCacheStatusMember(value);
}

/** RFC 9211: `hit` (§2.1), else the forward reason (§2.2) when it is one of the registered ones, else `none`. */
function classOf(member: Member): CacheStatusClass {
  if (!member) return "none";
  if (member.params.get("hit") === true) return "hit";
  const fwd = member.params.get("fwd");
  return typeof fwd === "string" && (CACHE_STATUS_CLASSES as readonly string[]).includes(fwd) ? (fwd as CacheStatusClass) : "none";
}

/** The Cache-Status class of an answer (the breakdowns and download events use the metrics' classes). */
export function cacheStatusClass(headers: Headers): CacheStatusClass {
  return classOf(ourMember(headers));
}

/** What answer `res` (classified as `served`, null when it moved no file bytes) adds, with `bytes` as its body bytes. */
export function answerEvents(res: { status: number; headers: Headers }, served: Served | null, bytes: number): CountedEvent[] {
  const member = ourMember(res.headers); // parsed once: this runs on every answer
  const events: CountedEvent[] = [{ name: "offload_answers_total", labels: { cache_status: classOf(member), code: String(res.status) }, n: 1 }];
  if (served?.kind === "refused") events.push({ name: "offload_guard_refusals_total", labels: {}, n: 1 });
  else if (served && bytes > 0) events.push({ name: "offload_served_bytes_total", labels: { source: served.kind }, n: bytes });
  const detail = member?.params.get("detail");
  if (detail === "origin-error") events.push({ name: "offload_origin_errors_total", labels: { answer: "error" }, n: 1 });
  else if (detail === "stale-if-error") events.push({ name: "offload_origin_errors_total", labels: { answer: "stale" }, n: 1 });
  return events;
}
