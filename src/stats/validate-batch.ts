/**
 * Checks a StatsBatch before anything is stored. The batch arrives over RPC from any
 * writer (a node of an older deploy, a bug), so every field is checked and the first bad
 * one is named in the thrown Error: a rejected batch stores nothing at all.
 */
import { MAX_PATH_BYTES } from "../http/path";
import { CACHE_STATUS_CLASSES, counterProblem, seriesKey, type CounterName, type CounterSample } from "./counters";
import { BREAKDOWN_DIMENSIONS, type BreakdownCounts, type BreakdownDimension, type DownloadSeen, type FileCounts, type MinuteBucket, type MirrorCounts, type StatsBatch } from "./types";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** How long minutes and per-hour file rows are kept (and the longest summary window). */
export const RETENTION_MINUTES = 48 * 60;
/** 1 PiB per minute per writer: far above any real link, far below 2^53 after summing. */
export const MAX_BYTES = 2 ** 50;
export const MAX_RESPONSES = 1_000_000_000;
/** The node's canonical paths are at most this many bytes (so at most as many characters). */
export const MAX_PATH_LENGTH = MAX_PATH_BYTES;
/** A batch holds at most one bucket per retained minute. */
const MAX_BUCKETS = RETENTION_MINUTES;
export const MAX_FILES = 5000;
/** Minutes this far ahead of the object's clock are a writer's bug, not clock skew. */
const MAX_FUTURE_MS = 5 * MINUTE_MS;

export class BatchError extends Error {
  constructor(field: string, reason: string) {
    super(`invalid stats batch: ${field}: ${reason}`);
    this.name = "BatchError";
  }
}

function count(v: unknown, field: string, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new BatchError(field, `${String(v)} is not a whole number`);
  if (v < 0 || v > max) throw new BatchError(field, `${v} is outside 0..${max}`);
  return v;
}

function file(v: unknown, field: string): FileCounts {
  if (typeof v !== "object" || v === null) throw new BatchError(field, "is not an object");
  const f = v as Record<string, unknown>;
  const path = f.path;
  if (typeof path !== "string" || !path.startsWith("/")) throw new BatchError(`${field}.path`, "must be a string starting with /");
  if (path.length > MAX_PATH_LENGTH) throw new BatchError(`${field}.path`, `longer than ${MAX_PATH_LENGTH} characters`);
  const bytes = count(f.bytes, `${field}.bytes`, MAX_BYTES);
  const copyBytes = count(f.copyBytes, `${field}.copyBytes`, MAX_BYTES);
  if (copyBytes > bytes) throw new BatchError(`${field}.copyBytes`, `${copyBytes} exceeds bytes (${bytes})`);
  return { path, bytes, copyBytes, responses: count(f.responses, `${field}.responses`, MAX_RESPONSES) };
}

/** A mirror id as config/targets.ts accepts it. */
const MIRROR_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_MIRRORS = 1000;

function mirrorCounts(v: unknown, field: string): MirrorCounts {
  if (typeof v !== "object" || v === null) throw new BatchError(field, "is not an object");
  const m = v as Record<string, unknown>;
  if (typeof m.mirror !== "string" || !MIRROR_ID.test(m.mirror)) throw new BatchError(`${field}.mirror`, "must be a mirror id (1-64 of A-Z a-z 0-9 . _ : -)");
  return { mirror: m.mirror, redirects: count(m.redirects, `${field}.redirects`, MAX_RESPONSES), bytes: count(m.bytes, `${field}.bytes`, MAX_BYTES) };
}

/** A writer id as config/fields.ts `token` accepts NODE_ID and BASE_ID. */
const WRITER_ID = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** ISO 3166-1 alpha-2, "XX" unknown, and Cloudflare's T1 (Tor). */
const COUNTRY = /^[A-Z0-9]{2}$/;
const DOWNLOAD_ID = /^[0-9a-f]{32}$/;
/** One writer id, ~250 countries and 10 classes per minute: far below this. */
const MAX_BREAKDOWNS = 1000;
/** Download ids per batch (the recorder flushes past 1000). */
const MAX_DOWNLOADS = 5000;

/** Why `key` is no value of `dimension`, or null when it is one. */
function keyProblem(dimension: BreakdownDimension, key: unknown): string | null {
  if (typeof key !== "string") return "is not a string";
  if (dimension === "node") return WRITER_ID.test(key) ? null : "must be a node or base id (1-64 token characters)";
  if (dimension === "country") return COUNTRY.test(key) ? null : "must be a two-letter country code (XX when unknown)";
  return (CACHE_STATUS_CLASSES as readonly string[]).includes(key) ? null : `must be one of ${CACHE_STATUS_CLASSES.join(", ")}`;
}

function breakdownCounts(v: unknown, field: string): BreakdownCounts {
  if (typeof v !== "object" || v === null) throw new BatchError(field, "is not an object");
  const c = v as Record<string, unknown>;
  const dimension = c.dimension as BreakdownDimension;
  if (!BREAKDOWN_DIMENSIONS.includes(dimension)) throw new BatchError(`${field}.dimension`, `must be one of ${BREAKDOWN_DIMENSIONS.join(", ")}`);
  const problem = keyProblem(dimension, c.key);
  if (problem) throw new BatchError(`${field}.key`, problem);
  const bytes = count(c.bytes, `${field}.bytes`, MAX_BYTES);
  const copyBytes = count(c.copyBytes, `${field}.copyBytes`, MAX_BYTES);
  if (copyBytes > bytes) throw new BatchError(`${field}.copyBytes`, `${copyBytes} exceeds bytes (${bytes})`);
  return { dimension, key: c.key as string, bytes, copyBytes };
}

function downloadSeen(v: unknown, field: string): DownloadSeen {
  if (typeof v !== "object" || v === null) throw new BatchError(field, "is not an object");
  const d = v as Record<string, unknown>;
  if (typeof d.id !== "string" || !DOWNLOAD_ID.test(d.id)) throw new BatchError(`${field}.id`, "must be 32 lowercase hex digits (a keyed hash, never an address)");
  const where = { node: d.node, country: d.country, class: d.class };
  for (const [name, dimension] of [["node", "node"], ["country", "country"], ["class", "class"]] as const) {
    const problem = keyProblem(dimension, where[name]);
    if (problem) throw new BatchError(`${field}.${name}`, problem);
  }
  return { id: d.id, node: d.node as string, country: d.country as string, class: d.class as string };
}

/** An optional array field of a bucket, each item checked by `item`. */
function optionalList<T>(v: unknown, field: string, max: number, item: (v: unknown, field: string) => T): T[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > max) throw new BatchError(field, `is not an array of at most ${max}`);
  return v.map((x, i) => item(x, `${field}[${i}]`));
}

function bucket(v: unknown, field: string, now: number): MinuteBucket {
  if (typeof v !== "object" || v === null) throw new BatchError(field, "is not an object");
  const b = v as Record<string, unknown>;
  const minute = count(b.minute, `${field}.minute`, Number.MAX_SAFE_INTEGER);
  if (minute % MINUTE_MS !== 0) throw new BatchError(`${field}.minute`, `${minute} is not the start of a minute (epoch ms)`);
  if (minute > now + MAX_FUTURE_MS) throw new BatchError(`${field}.minute`, `${new Date(minute).toISOString()} is in the future`);
  if (!Array.isArray(b.files)) throw new BatchError(`${field}.files`, "is not an array");
  if (b.mirrors !== undefined && !(Array.isArray(b.mirrors) && b.mirrors.length <= MAX_MIRRORS)) throw new BatchError(`${field}.mirrors`, `is not an array of at most ${MAX_MIRRORS}`);
  return {
    minute,
    copyBytes: count(b.copyBytes, `${field}.copyBytes`, MAX_BYTES),
    originBytes: count(b.originBytes, `${field}.originBytes`, MAX_BYTES),
    copyResponses: count(b.copyResponses, `${field}.copyResponses`, MAX_RESPONSES),
    originResponses: count(b.originResponses, `${field}.originResponses`, MAX_RESPONSES),
    refusals: count(b.refusals, `${field}.refusals`, MAX_RESPONSES),
    files: b.files.map((f, i) => file(f, `${field}.files[${i}]`)),
    ...(b.mirrors ? { mirrors: (b.mirrors as unknown[]).map((m, i) => mirrorCounts(m, `${field}.mirrors[${i}]`)) } : {}),
    ...optional("breakdowns", optionalList(b.breakdowns, `${field}.breakdowns`, MAX_BREAKDOWNS, breakdownCounts)),
    ...optional("downloads", optionalList(b.downloads, `${field}.downloads`, MAX_DOWNLOADS, downloadSeen)),
  };
}

function optional<K extends string, T>(key: K, v: T | undefined): Partial<Record<K, T>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, T>);
}

/**
 * Every series counters.ts admits fits: its label sets are closed, the largest being
 * answers (10 Cache-Status classes x 500 status codes); the rest add a dozen.
 */
const MAX_COUNTER_SAMPLES = 6000;

/** The batch's counter increments: known names, exactly their labels, each series once. */
function counters(v: unknown): CounterSample[] {
  if (!Array.isArray(v) || v.length > MAX_COUNTER_SAMPLES) throw new BatchError("counters", `is not an array of at most ${MAX_COUNTER_SAMPLES}`);
  const seen = new Set<string>();
  return v.map((c: unknown, i) => {
    const field = `counters[${i}]`;
    if (typeof c !== "object" || c === null) throw new BatchError(field, "is not an object");
    const { name, labels, value } = c as Record<string, unknown>;
    const problem = counterProblem(name, labels);
    if (problem) throw new BatchError(field, problem);
    const key = seriesKey(name as string, labels as Record<string, string>);
    if (seen.has(key)) throw new BatchError(field, `${key} appears twice`);
    seen.add(key);
    // Copied label by label: nothing but the checked labels reaches storage.
    const copy = Object.fromEntries(Object.keys(labels as object).map((k) => [k, (labels as Record<string, string>)[k]!]));
    return { name: name as CounterName, labels: copy, value: count(value, `${field}.value`, MAX_BYTES) };
  });
}

/** The batch as accepted, or a BatchError naming the first bad field. */
export function validateBatch(input: unknown, now: number): StatsBatch {
  if (typeof input !== "object" || input === null) throw new BatchError("batch", "is not an object");
  const buckets = (input as { buckets?: unknown }).buckets;
  if (!Array.isArray(buckets)) throw new BatchError("buckets", "is not an array");
  if (buckets.length > MAX_BUCKETS) throw new BatchError("buckets", `more than ${MAX_BUCKETS} minutes`);
  const files = buckets.reduce<number>((n, b) => n + (Array.isArray((b as { files?: unknown })?.files) ? (b as { files: unknown[] }).files.length : 0), 0);
  if (files > MAX_FILES) throw new BatchError("buckets[].files", `more than ${MAX_FILES} file entries in one batch`);
  const downloads = buckets.reduce<number>((n, b) => n + (Array.isArray((b as { downloads?: unknown })?.downloads) ? (b as { downloads: unknown[] }).downloads.length : 0), 0);
  if (downloads > MAX_DOWNLOADS) throw new BatchError("buckets[].downloads", `more than ${MAX_DOWNLOADS} download ids in one batch`);
  const accepted: StatsBatch = { buckets: buckets.map((b, i) => bucket(b, `buckets[${i}]`, now)) };
  const samples = (input as { counters?: unknown }).counters;
  if (samples !== undefined) accepted.counters = counters(samples);
  return accepted;
}
