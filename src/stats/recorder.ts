/**
 * Counts every answer a writer (node or base) gives into its per-env pending batch and
 * flushes that batch to the one OffloadStats object through ctx.waitUntil: every
 * STATS_FLUSH_SECONDS (0 = after every answer), or sooner once it holds over 200 files.
 * Never slows or fails the answer it counts; a no-op without a STATS binding.
 */
import { addBreakdowns, addCount, addDownload, addRedirect, addServed, emptyPending, isEmpty, toBatch, type Pending } from "./accumulator";
import { bytesEvent, fixedEvents, type CountedEvent } from "./answer-counters";
import { answerProfile, servedOf, type AnswerProfile } from "./classify";
import { counterProblem, type CounterLabels, type CounterName } from "./counters";
import { statsFlushSeconds } from "../config/stats-flush";
import { perIsolate } from "../platform/per-isolate";
import type { OffloadStats } from "./offload-stats";
import { log } from "../platform/log";
import { countedBody } from "../platform/counted-body";
import { cfOf, downloadEvents, writeDownloadEvent } from "./download-event";
import { clientPart, downloadId, importSalt, randomClientPart, versionOf } from "./download-id";
import { factsOf, type AnswerFacts } from "../platform/answer-facts";

/** The one object every writer reports to. */
export const STATS_OBJECT_NAME = "offload-stats";
/** Flush early past this many file entries: keeps batches (and memory) small on busy isolates. */
export const FLUSH_FILE_ENTRIES = 200;
/** Flush early past this many download ids (many clients of one file make few file entries). */
const FLUSH_DOWNLOADS = 1000;

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

/** One final answer of a writer, as the app is about to send it. */
export interface ServedAnswer {
  /** The canonical request path (http/path.ts), never the URL: its query may carry a token. */
  path: string;
  req: Request;
  /** `req.method`, as the caller read it (each read is a call into the runtime). */
  method: string;
  res: Response;
  /** The writer's id: NODE_ID or BASE_ID. */
  worker: string;
  /**
   * The client, for its download ids: `address`, its address as the request names it
   * (CF-Connecting-IP as sent; null without one), and `key()`, its key as the guard
   * computes it (limits/client-key.ts: the address, IPv6 as its /64; null when the address
   * is not one). The key is asked only for a client new to this isolate, and hashed here
   * (download-id.ts), never sent; its hash is then kept under the address, so a client's
   * next answers cost a lookup, not a parse.
   */
  client: { address: string | null; key: () => string | null };
}

/**
 * Counts `a.res` (the final answer for `a.path`) and returns the answer to send instead:
 * its body watched by the byte counter (platform/counted-body.ts: in whole parts through
 * one native stage) when bytes are to be counted, since the totals, the Prometheus byte
 * counter and the download events all count the body bytes the client took (issue #15
 * part 1), recorded when the body ends or its client leaves. The request's waitUntil
 * holds that wait, so the record (and the flush after it) outlive the answer.
 * An answer whose bytes are known at once (a small body counted by its length, a HEAD) of
 * a client whose id half this isolate already holds is recorded at once instead: a 1 KiB
 * hit then pays no promise chain and no waitUntil of its own (issue #13).
 */
export function recordServed(env: object, ctx: ExecutionContext, a: ServedAnswer): Response {
  const stats = statsNamespace(env) !== null;
  const events = downloadEvents(env) !== null;
  if (!stats && !events) return a.res; // nothing to count into: the answer is untouched
  // The answer's status and fields as its maker told them (platform/answer-facts.ts): a hit reads none back.
  const facts = factsOf(a.res);
  const profile = profileOf(env, facts);
  const kind = profile.kind;
  if (kind !== "copy" && kind !== "origin") {
    // A refusal or an answer that moved no file bytes: counted now, nothing to watch.
    const served = servedOf(profile, a.res);
    if (stats) record(env, ctx, (pending, now) => {
      if (served) addServed(pending, now, a.path, served);
      for (const e of profile.events) addCount(pending, e);
    });
    return a.res;
  }
  const counted = countedBody(a.res, a.method);
  const { sent, declared } = counted;
  if (typeof sent === "number") {
    const id = idNow(env, a);
    if (id !== undefined) {
      // Counting never fails an answer: a bug here is logged, as on the waiting path below.
      try {
        delivered(env, ctx, { answer: a, profile, kind, bytes: sent, declared }, id);
      } catch (e) {
        recordFailed(a, e);
      }
      return counted.res;
    }
  }
  const recorded = Promise.resolve(sent).then(async (bytes) => delivered(env, ctx, { answer: a, profile, kind, bytes, declared }, await idLater(env, a)));
  // Not left as an unhandled rejection either.
  ctx.waitUntil(recorded.catch((e: unknown) => recordFailed(a, e)));
  return counted.res;
}

function recordFailed(a: ServedAnswer, e: unknown): void {
  log.error("stats.record-failed", { path: a.path, error: String(e) });
}

/** An answer's profile (classify.ts) and the counters it adds whatever its bytes. */
type Profiled = AnswerProfile & { events: CountedEvent[] };

/**
 * This isolate's profiles by status and Cache-Status value: a node's answers carry a few
 * distinct values (a hit's ttl changes once a second), so the header is parsed and the
 * counter keys built once per value, not per answer. By status, then by value: a hit's
 * value is the same string each time (told, node/serve-object.ts), whose hash V8 keeps,
 * where a joined key would be a new string to hash per answer. Bounded: emptied past PROFILES.
 */
const profilesOf = perIsolate((_env: object) => ({ size: 0, byStatus: new Map<number, Map<string, Profiled>>() }));
const PROFILES = 256;

function profileOf(env: object, res: AnswerFacts): Profiled {
  const status = res.status;
  const value = res.get("cache-status");
  const memo = profilesOf(env);
  let byValue = memo.byStatus.get(status);
  if (!byValue) memo.byStatus.set(status, (byValue = new Map()));
  let p = byValue.get(value ?? "");
  if (!p) {
    const profile = answerProfile(status, value);
    p = { ...profile, events: fixedEvents(profile, status) };
    if (memo.size >= PROFILES) {
      memo.byStatus.clear();
      memo.byStatus.set(status, (byValue = new Map()));
      memo.size = 0;
    }
    byValue.set(value ?? "", p);
    memo.size++;
  }
  return p;
}

interface Delivered {
  answer: ServedAnswer;
  profile: Profiled;
  kind: "copy" | "origin";
  /** Body bytes the client pulled. */
  bytes: number;
  declared: number | null;
}

/**
 * Records an answer whose body ended (or was abandoned) after `d.bytes` bytes; `id` is its
 * download's id, null when it starts none (a HEAD) or the id could not be made.
 */
function delivered(env: object, ctx: ExecutionContext, d: Delivered, id: string | null): void {
  const { answer: a, kind, bytes } = d;
  const cf = cfOf(a.req);
  const where = { node: a.worker, country: COUNTRY.test(cf.country) ? cf.country : "XX", class: d.profile.cacheClass };
  // A HEAD is no download (no event, no id); every GET answer of a file is one, or part of one.
  const download = a.method === "GET";
  if (download) writeDownloadEvent(env, { path: a.path, status: factsOf(a.res).status, cacheClass: where.class, ...cf, target: a.worker, source: kind, bytes, declared: d.declared ?? 0 });
  record(env, ctx, (pending, now) => {
    addServed(pending, now, a.path, { kind, bytes });
    // A HEAD moves no bytes and starts no download: nothing to break down.
    if (download) addBreakdowns(pending, now, where, bytes, kind === "copy");
    if (id) addDownload(pending, now, id, where);
    for (const e of d.profile.events) addCount(pending, e);
    if (bytes > 0) addCount(pending, bytesEvent(kind, bytes));
  });
}

/** ISO 3166-1 alpha-2 as request.cf gives it (Cloudflare adds T1 for Tor: letters and digits). */
const COUNTRY = /^[A-Z0-9]{2}$/;

/**
 * This isolate's HMAC key for download ids, once the stats object gave its salt, and the
 * client halves it computed last (download-id.ts), by client address as sent: an HMAC
 * costs tens of µs of CPU, as much as a small hit's own work, and a client's ranges,
 * repeats and other files ask for the same half again. Bounded: emptied past
 * RECENT_CLIENTS entries. The map's keys hold client addresses in this isolate's memory
 * only, as the guard's do; never sent or stored.
 */
const idsOf = perIsolate((_env: object): { key: CryptoKey | null; clients: Map<string, string> } => ({ key: null, clients: new Map() }));
const RECENT_CLIENTS = 1000;

/**
 * The download id of `a` when it needs no waiting: null for a HEAD (no download) or
 * without STATS (nothing to count it into), else the id when the client's half is kept
 * here (or the request names no address); undefined when the half must be computed first.
 */
function idNow(env: object, a: ServedAnswer): string | null | undefined {
  if (a.method !== "GET" || statsNamespace(env) === null) return null;
  const { address } = a.client;
  // No address (never on Cloudflare, which always sends one): nothing to tell clients
  // apart by, so each answer is its own download, and nothing to hash.
  const part = address === null ? randomClientPart() : idsOf(env).clients.get(address);
  return part === undefined ? undefined : downloadId(part, versionOf(a.path, factsOf(a.res)));
}

/** The download id of `a` (as idNow), computing and keeping its client's half when needed. */
async function idLater(env: object, a: ServedAnswer): Promise<string | null> {
  const now = idNow(env, a);
  if (now !== undefined) return now;
  const ns = statsNamespace(env);
  const { address } = a.client;
  if (!ns || address === null) return null; // idNow answered these
  const version = versionOf(a.path, factsOf(a.res));
  const client = a.client.key();
  // An address that is not one (never on Cloudflare): its own download, as without one.
  if (client === null) return downloadId(randomClientPart(), version);
  try {
    const kept = idsOf(env);
    // Not a kept promise: a promise made in one request's context must not be awaited from another's.
    kept.key ??= await importSalt(await ns.get(ns.idFromName(STATS_OBJECT_NAME)).downloadSalt());
    const part = await clientPart(kept.key, client);
    if (kept.clients.size >= RECENT_CLIENTS) kept.clients.clear();
    // Under the address as sent: two spellings of one client are two entries of one half.
    kept.clients.set(address, part);
    return downloadId(part, version);
  } catch (e) {
    return logIdFailure(e);
  }
}

function logIdFailure(e: unknown): null {
  // The bytes still count; only this answer's download goes uncounted.
  log.error("stats.download-id-failed", { error: String(e) });
  return null;
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

/** One redirect of the base to a mirror, for the file at `path` of `bytes` bytes. */
export interface MirrorRedirect {
  mirror: string;
  path: string;
  bytes: number;
  req: Request;
  status: number;
}

/**
 * Counts one redirect of the base to a mirror (issue #14: per-mirror numbers) and writes
 * its download event: the mirror sends the bytes, so the event has 0 sent and the size.
 */
export function recordMirrorRedirect(env: object, ctx: ExecutionContext, r: MirrorRedirect): void {
  writeDownloadEvent(env, () => ({ path: r.path, status: r.status, cacheClass: "bypass", ...cfOf(r.req), target: r.mirror, source: "mirror", bytes: 0, declared: r.bytes }));
  record(env, ctx, (pending, now) => addRedirect(pending, now, r.mirror, r.bytes));
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
  if (now - w.lastFlush >= w.flushMs || w.pending.fileEntries > FLUSH_FILE_ENTRIES || w.pending.downloadEntries > FLUSH_DOWNLOADS) flush(ns, ctx, w, now);
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
