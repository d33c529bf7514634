/**
 * Offload totals: what writers (nodes, the base) send to the OffloadStats Durable Object,
 * and what the admin page reads back. Plain data only: both cross an RPC boundary.
 */
import type { CounterSample } from "./counters";

/** Bytes and answers of one file within one minute bucket. */
export interface FileCounts {
  /** Canonical request path (no query). */
  path: string;
  /** Body bytes the clients pulled of every counted answer (copy and origin; platform/counted-body.ts). */
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
  /** Bytes of that minute per writer, country and Cache-Status class (absent when none). */
  breakdowns?: BreakdownCounts[];
  /** Downloads whose answers ended in that minute, by keyed id; the object keeps each id's first. */
  downloads?: DownloadSeen[];
}

/** The dimensions a writer breaks its bytes down by (mirrors come from the base's redirects). */
export const BREAKDOWN_DIMENSIONS = ["node", "country", "class"] as const;
export type BreakdownDimension = (typeof BREAKDOWN_DIMENSIONS)[number];

/** Bytes delivered within one minute for one value of one dimension. */
export interface BreakdownCounts {
  dimension: BreakdownDimension;
  /** The writer's id (NODE_ID, BASE_ID), an ISO 3166-1 alpha-2 country ("XX" unknown), or a Cache-Status class. */
  key: string;
  bytes: number;
  /** Of `bytes`, those from our stored copies. */
  copyBytes: number;
}

/**
 * One answer of a download, as the object dedupes it: the keyed id of (client, object
 * version) (download-id.ts; never the address) and where the answer fell, so a download
 * counts once, for the node, country and class of its first answer the object sees.
 */
export interface DownloadSeen {
  id: string;
  node: string;
  country: string;
  class: string;
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
  /** Downloads: distinct (client, object version) pairs, however many connections or ranges each used. */
  downloads: number;
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

/**
 * One value of a breakdown dimension over the window (issue #15 parts 1 and 6): a node
 * or the base (by its id), a mirror (by its id), a country (ISO 3166-1 alpha-2 from
 * request.cf, "XX" when unknown) or a Cache-Status class (counters.ts CACHE_STATUS_CLASSES).
 */
export interface BreakdownRow {
  key: string;
  /** Bytes delivered to clients. Mirrors: the sizes of the files redirected there (what they were asked to send). */
  bytes: number;
  /** Of `bytes`, those from our stored copies (0 for mirrors). */
  copyBytes: number;
  /** Downloads counted where each one's first answer fell. Mirrors: redirects. */
  downloads: number;
}

/** Every breakdown of a summary, each row list sorted by bytes, most first. */
export interface Breakdowns {
  nodes: BreakdownRow[];
  mirrors: BreakdownRow[];
  countries: BreakdownRow[];
  classes: BreakdownRow[];
}

export interface StatsSummary {
  windowMinutes: number;
  totals: StatsTotals;
  /** One point per minute of the window, oldest first, idle minutes as zeros. */
  series: SeriesPoint[];
  /** Most bytes first. Per-hour granularity: the window is widened to whole hours here. */
  top: TopFile[];
  breakdowns: Breakdowns;
}
