/**
 * Counts every answer a writer (node or base) gives into its per-env pending batch and
 * flushes that batch to the one OffloadStats object through ctx.waitUntil: every
 * STATS_FLUSH_SECONDS (0 = after every answer), or sooner once it holds over 200 files.
 * Never slows or fails the answer it counts; a no-op without a STATS binding.
 */
import { addCount, addRedirect, addServed, emptyPending, isEmpty, toBatch, type Pending } from "./accumulator";
import { answerEvents } from "./answer-counters";
import { classifyServed, type Served } from "./classify";
import { counterProblem, type CounterLabels, type CounterName } from "./counters";
import { statsFlushSeconds } from "../config/stats-flush";
import { perIsolate } from "../platform/per-isolate";
import type { OffloadStats } from "./offload-stats";
import { log } from "../platform/log";

/** The one object every writer reports to. */
export const STATS_OBJECT_NAME = "offload-stats";
/** Flush early past this many file entries: keeps batches (and memory) small on busy isolates. */
export const FLUSH_FILE_ENTRIES = 200;

interface Writer {
  pending: Pending;
  /** 0 until the first flush: an isolate's first answer is reported at once. */
  lastFlush: number;
  /** null: STATS_FLUSH_SECONDS is invalid (the config reports it), so nothing is recorded. */
  flushMs: number | null;
  /** A delayed flush is already waiting (in some request's waitUntil). */
  scheduled: boolean;
}

/**
 * Workers keep a request's waitUntil work alive for about 30 s after the answer: with a
 * STATS_FLUSH_SECONDS up to this, a delayed flush in the request's waitUntil sends the
 * counts of an isolate whose traffic stopped. Longer intervals rely on later traffic.
 */
const MAX_FLUSH_DELAY_MS = 25_000;

type StatsNamespace = DurableObjectNamespace<OffloadStats>;

function statsNamespace(env: object): StatsNamespace | null {
  const ns = (env as { STATS?: Partial<StatsNamespace> }).STATS;
  if (typeof ns?.idFromName !== "function" || typeof ns.get !== "function") return null;
  return ns as StatsNamespace;
}

/** This isolate's writer (per env: isolate + deployment). */
const writerOf = perIsolate((env: object): Writer => {
  let flushMs: number | null = null;
  try {
    flushMs = statsFlushSeconds(env as Record<string, unknown>) * 1000;
  } catch (e) {
    log.error("stats.disabled", { error: String(e) });
  }
  return { pending: emptyPending(), lastFlush: 0, flushMs, scheduled: false };
});

/** What background work needs: a request's ExecutionContext, or a Durable Object's state. */
type Background = Pick<ExecutionContext, "waitUntil">;

/** Count `res` (the final answer for canonical `path`) and flush when due. */
export function recordServed(env: object, ctx: ExecutionContext, path: string, res: Response): void {
  const served = classifyServed(res);
  record(env, ctx, (pending, now) => {
    if (served) addServed(pending, now, path, served);
    countAnswer(pending, res, served);
  });
}

/**
 * The answer's Prometheus counters (/_admin/metrics). Bytes are `served.bytes`, the
 * declared length, for now: issue #15 part 1 (bytes the client actually pulled) replaces
 * this argument with the pulled count when the body ends or aborts.
 */
function countAnswer(pending: Pending, res: Response, served: Served | null): void {
  for (const e of answerEvents(res, served, served?.bytes ?? 0)) addCount(pending, e);
}

/**
 * Adds `n` to the all-time counter `name` with `labels` (src/stats/counters.ts), flushed
 * with this isolate's next batch: fills, health transitions. A name or label the table
 * does not allow is a bug of the caller: logged and dropped, so it never spoils the
 * batch it would ride in (the object refuses a batch with a bad field as a whole).
 */
export function countEvent(env: object, ctx: Background, event: { name: CounterName; labels?: CounterLabels; n?: number }): void {
  const labels = event.labels ?? {};
  const problem = counterProblem(event.name, labels);
  if (problem) {
    log.error("stats.counter-dropped", { counter: event.name, error: problem });
    return;
  }
  record(env, ctx, (pending) => addCount(pending, { name: event.name, labels, n: event.n ?? 1 }));
}

/** Count one redirect of the base to `mirror` for a file of `bytes` bytes (issue #14: per-mirror numbers). */
export function recordMirrorRedirect(env: object, ctx: ExecutionContext, mirror: string, bytes: number): void {
  record(env, ctx, (pending, now) => addRedirect(pending, now, mirror, bytes));
}

/** Adds to this isolate's batch (when stats are bound and on), then flushes when due. */
function record(env: object, ctx: Background, add: (pending: Writer["pending"], now: number) => void): void {
  const ns = statsNamespace(env);
  if (!ns) return;
  const w = writerOf(env);
  if (w.flushMs === null) return;
  const now = Date.now();
  add(w.pending, now);
  flushWhenDue(ns, ctx, w, now);
}

function flushWhenDue(ns: StatsNamespace, ctx: Background, w: Writer, now: number): void {
  if (w.flushMs === null) return;
  if (now - w.lastFlush >= w.flushMs || w.pending.fileEntries > FLUSH_FILE_ENTRIES) flush(ns, ctx, w, now);
  else if (!w.scheduled && w.flushMs <= MAX_FLUSH_DELAY_MS) {
    // Not due yet: flush later from this request's waitUntil, unless a later answer does it first.
    w.scheduled = true;
    const delay = w.lastFlush + w.flushMs - now;
    ctx.waitUntil(
      new Promise((resolve) => setTimeout(resolve, delay)).then(() => {
        w.scheduled = false;
        flush(ns, ctx, w, Date.now());
      }),
    );
  }
}

function flush(ns: StatsNamespace, ctx: Background, w: Writer, now: number): void {
  if (isEmpty(w.pending)) return;
  const batch = toBatch(w.pending);
  w.pending = emptyPending();
  w.lastFlush = now;
  const stats = ns.get(ns.idFromName(STATS_OBJECT_NAME));
  // A failed flush is logged and its counts dropped, never retried or re-queued: when the
  // object is overloaded or down, every isolate retrying would only add to its load (a
  // retry storm); the totals are for a chart, and a gap there is the honest record.
  const sent = stats.record(batch).catch((e: unknown) => {
    const lost = batch.buckets.reduce((n, b) => n + b.copyResponses + b.originResponses + b.refusals, 0);
    log.error("stats.flush-failed", { answersDropped: lost, error: String(e) });
  });
  ctx.waitUntil(sent);
}
