/**
 * A writer's counts since its last flush, per minute and per file: plain data, so the
 * recorder only decides when to flush. Minutes are the writer's clock, as in the batch.
 */
import type { Served } from "./classify";
import { seriesKey, type CounterLabels, type CounterName, type CounterSample } from "./counters";
import type { BreakdownCounts, BreakdownDimension, DownloadSeen, FileCounts, MinuteBucket, MirrorCounts, StatsBatch } from "./types";
import { MINUTE_MS } from "./validate-batch";

interface PendingMinute {
  bucket: MinuteBucket;
  files: Map<string, FileCounts>;
  mirrors: Map<string, MirrorCounts>;
  /** By dimension and key (`node\nid`). */
  breakdowns: Map<string, BreakdownCounts>;
  /** By id: one writer's repeats of a download are sent once. */
  downloads: Map<string, DownloadSeen>;
}

export interface Pending {
  buckets: Map<number, PendingMinute>;
  /** File entries over all buckets: what a batch's size grows with. */
  fileEntries: number;
  /** Download ids over all buckets: one file may have many clients, so these call for a flush of their own. */
  downloadEntries: number;
  /** Counter increments since the last flush, one entry per series (not per minute: all-time totals). */
  counters: Map<string, CounterSample>;
}

export function emptyPending(): Pending {
  return { buckets: new Map(), fileEntries: 0, downloadEntries: 0, counters: new Map() };
}

/** Adds `n` to one counter series (labels already checked by the caller). */
export function addCount(p: Pending, sample: { name: CounterName; labels: CounterLabels; n: number; key?: string }): void {
  const key = sample.key ?? seriesKey(sample.name, sample.labels);
  const c = p.counters.get(key);
  if (c) c.value += sample.n;
  // Not counted in fileEntries: the series are few and bounded by counters.ts, so they
  // never call for an early flush.
  else p.counters.set(key, { name: sample.name, labels: { ...sample.labels }, value: sample.n });
}

function minuteOf(p: Pending, now: number): PendingMinute {
  const minute = now - (now % MINUTE_MS);
  let m = p.buckets.get(minute);
  if (!m) {
    const bucket = { minute, copyBytes: 0, originBytes: 0, copyResponses: 0, originResponses: 0, refusals: 0, files: [] };
    m = { bucket, files: new Map(), mirrors: new Map(), breakdowns: new Map(), downloads: new Map() };
    p.buckets.set(minute, m);
  }
  return m;
}

/** One redirect of the base to a mirror, for a file of `bytes` bytes. */
export function addRedirect(p: Pending, now: number, mirror: string, bytes: number): void {
  const m = minuteOf(p, now);
  let c = m.mirrors.get(mirror);
  if (!c) {
    m.mirrors.set(mirror, (c = { mirror, redirects: 0, bytes: 0 }));
    p.fileEntries += 1; // a batch grows with these as with files
  }
  c.redirects += 1;
  c.bytes += bytes;
}

export function addServed(p: Pending, now: number, path: string, s: Served): void {
  const m = minuteOf(p, now);
  const b = m.bucket;
  if (s.kind === "refused") {
    // A refusal moved no file bytes: counted per minute only.
    b.refusals += 1;
    return;
  }
  const copy = s.kind === "copy";
  if (copy) {
    b.copyBytes += s.bytes;
    b.copyResponses += 1;
  } else {
    b.originBytes += s.bytes;
    b.originResponses += 1;
  }
  let f = m.files.get(path);
  if (!f) {
    m.files.set(path, (f = { path, bytes: 0, responses: 0, copyBytes: 0 }));
    p.fileEntries += 1;
  }
  f.bytes += s.bytes;
  f.responses += 1;
  if (copy) f.copyBytes += s.bytes;
}

/** Where an answer fell, for the per-node, per-country and per-class breakdowns. */
export interface Where {
  node: string;
  country: string;
  class: string;
}

/** Bytes of one answer (from our copy or not) under each dimension of `where`. */
export function addBreakdowns(p: Pending, now: number, where: Where, bytes: number, copy: boolean): void {
  const m = minuteOf(p, now);
  const add = (dimension: BreakdownDimension, key: string) => {
    const k = `${dimension}\n${key}`;
    let c = m.breakdowns.get(k);
    if (!c) {
      // Not counted in fileEntries: one writer id, ~250 countries, 10 classes per minute at most.
      m.breakdowns.set(k, (c = { dimension, key, bytes: 0, copyBytes: 0 }));
    }
    c.bytes += bytes;
    if (copy) c.copyBytes += bytes;
  };
  add("node", where.node);
  add("country", where.country);
  add("class", where.class);
}

/** One answer of download `id`; the object decides whether it starts a download. */
export function addDownload(p: Pending, now: number, id: string, where: Where): void {
  const m = minuteOf(p, now);
  if (m.downloads.has(id)) return;
  m.downloads.set(id, { id, ...where });
  p.downloadEntries += 1;
}

export function isEmpty(p: Pending): boolean {
  return p.buckets.size === 0 && p.counters.size === 0;
}

export function toBatch(p: Pending): StatsBatch {
  const buckets = [...p.buckets.values()].map(({ bucket, files, mirrors, breakdowns, downloads }) => ({
    ...bucket,
    files: [...files.values()],
    ...(mirrors.size ? { mirrors: [...mirrors.values()] } : {}),
    ...(breakdowns.size ? { breakdowns: [...breakdowns.values()] } : {}),
    ...(downloads.size ? { downloads: [...downloads.values()] } : {}),
  }));
  return { buckets, ...(p.counters.size ? { counters: [...p.counters.values()] } : {}) };
}
