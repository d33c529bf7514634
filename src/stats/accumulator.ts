/**
 * A writer's counts since its last flush, per minute and per file: plain data, so the
 * recorder only decides when to flush. Minutes are the writer's clock, as in the batch.
 */
import type { Served } from "./classify";
import { seriesKey, type CounterLabels, type CounterName, type CounterSample } from "./counters";
import type { FileCounts, MinuteBucket, MirrorCounts, StatsBatch } from "./types";
import { MINUTE_MS } from "./validate-batch";

export interface Pending {
  buckets: Map<number, { bucket: MinuteBucket; files: Map<string, FileCounts>; mirrors: Map<string, MirrorCounts> }>;
  /** File entries over all buckets: what a batch's size grows with. */
  fileEntries: number;
  /** Counter increments since the last flush, one entry per series (not per minute: all-time totals). */
  counters: Map<string, CounterSample>;
}

export function emptyPending(): Pending {
  return { buckets: new Map(), fileEntries: 0, counters: new Map() };
}

/** Adds `n` to one counter series (labels already checked by the caller). */
export function addCount(p: Pending, sample: { name: CounterName; labels: CounterLabels; n: number }): void {
  const key = seriesKey(sample.name, sample.labels);
  const c = p.counters.get(key);
  if (c) c.value += sample.n;
  // Not counted in fileEntries: the series are few and bounded by counters.ts, so they
  // never call for an early flush.
  else p.counters.set(key, { name: sample.name, labels: { ...sample.labels }, value: sample.n });
}

function minuteOf(p: Pending, now: number) {
  const minute = now - (now % MINUTE_MS);
  let m = p.buckets.get(minute);
  if (!m) {
    m = { bucket: { minute, copyBytes: 0, originBytes: 0, copyResponses: 0, originResponses: 0, refusals: 0, files: [] }, files: new Map(), mirrors: new Map() };
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

export function isEmpty(p: Pending): boolean {
  return p.buckets.size === 0 && p.counters.size === 0;
}

export function toBatch(p: Pending): StatsBatch {
  const buckets = [...p.buckets.values()].map(({ bucket, files, mirrors }) => ({ ...bucket, files: [...files.values()], ...(mirrors.size ? { mirrors: [...mirrors.values()] } : {}) }));
  return { buckets, ...(p.counters.size ? { counters: [...p.counters.values()] } : {}) };
}
