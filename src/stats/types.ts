/**
 * Offload totals: what writers (nodes, the base) send to the OffloadStats Durable Object,
 * and what the admin page reads back. Plain data only: both cross an RPC boundary.
 */
import type { CounterSample } from "./counters";

/** Bytes and answers of one file within one minute bucket. */
export interface FileCounts {
  /** Canonical request path (no query). */
  path: string;
  /** Declared bytes of every counted answer (copy and origin). */
  bytes: number;
  /** Counted answers (copy and origin; refusals are not per file). */
  responses: number;
  /** Of `bytes`, those served from our stored copy. */
  copyBytes: number;
}

/** One minute of one writer's traffic. */
export interface MinuteBucket {
  /** Start of the minute, epoch milliseconds (a multiple of 60 000). */
  minute: number;
  copyBytes: number;
  originBytes: number;
  copyResponses: number;
  originResponses: number;
  /** Downloads refused by the accelerator guard (503 detail=concurrency-limit). */
  refusals: number;
  files: FileCounts[];
  /** Redirects the base sent to each mirror in that minute (absent from node writers). */
  mirrors?: MirrorCounts[];
}

/** Redirects to one mirror within one minute, and the bytes of the files redirected. */
export interface MirrorCounts {
  mirror: string;
  redirects: number;
  /** Sum of the redirected files' sizes (what the mirror was asked to send). */
  bytes: number;
}

/** Per-mirror redirect totals over the last `windowMinutes` minutes. */
export interface MirrorTraffic {
  windowMinutes: number;
  mirrors: MirrorCounts[];
}

/** What a writer flushes: the minute buckets it accumulated since its last flush. */
export interface StatsBatch {
  buckets: MinuteBucket[];
  /** Increments of the all-time counters /_admin/metrics exports (counters.ts); absent when none. */
  counters?: CounterSample[];
}

export interface StatsQuery {
  /** Window length in minutes, ending with the current minute; clamped to 1..2880. */
  minutes: number;
  /** How many top files; clamped to 1..100. */
  top: number;
}

export interface StatsTotals {
  copyBytes: number;
  originBytes: number;
  copyResponses: number;
  originResponses: number;
  refusals: number;
  /** copyResponses / (copyResponses + originResponses); null when there were none. */
  hitRatio: number | null;
  /** copyBytes / (copyBytes + originBytes); null when there were none. */
  byteHitRatio: number | null;
}

export interface SeriesPoint {
  minute: number;
  copyBytes: number;
  originBytes: number;
  /** Byte offload ratio of that minute: copyBytes / (copyBytes + originBytes); null when idle. */
  ratio: number | null;
}

export interface TopFile {
  path: string;
  bytes: number;
  responses: number;
  copyBytes: number;
}

export interface StatsSummary {
  windowMinutes: number;
  totals: StatsTotals;
  /** One point per minute of the window, oldest first, idle minutes as zeros. */
  series: SeriesPoint[];
  /** Most bytes first. Per-hour granularity: the window is widened to whole hours here. */
  top: TopFile[];
}
