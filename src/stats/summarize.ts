/**
 * Rows of the OffloadStats tables -> the StatsSummary the admin page draws. Pure, so the
 * arithmetic (ratios, zero-filled series) reads apart from the SQL.
 */
import { MINUTE_MS, RETENTION_MINUTES } from "./validate-batch";
import type { Breakdowns, MinuteBucket, SeriesPoint, StatsQuery, StatsSummary, StatsTotals, TopFile } from "./types";

export const DEFAULT_MINUTES = 60;
export const DEFAULT_TOP = 10;
export const MAX_TOP = 100;

/** One stored minute, as the SQL selects it. */
export type MinuteRow = Omit<MinuteBucket, "files" | "mirrors" | "breakdowns" | "downloads">;

function clamp(v: unknown, fallback: number, max: number): number {
  const n = typeof v === "number" && Number.isFinite(v) ? Math.trunc(v) : fallback;
  return Math.min(max, Math.max(1, n));
}

/**
 * The admin page passes query-string numbers straight through: anything out of range is
 * clamped (1..2880 minutes, 1..100 files) rather than refused, and non-numbers get the
 * defaults, so a hand-edited URL still draws a chart.
 */
export function clampQuery(q: Partial<StatsQuery> | undefined): StatsQuery {
  return { minutes: clamp(q?.minutes, DEFAULT_MINUTES, RETENTION_MINUTES), top: clamp(q?.top, DEFAULT_TOP, MAX_TOP) };
}

/** Window of `minutes` whole minutes ending with the one `now` falls in: [first, last] starts. */
export function windowOf(now: number, minutes: number): { first: number; last: number } {
  const last = now - (now % MINUTE_MS);
  return { first: last - (minutes - 1) * MINUTE_MS, last };
}

function ratio(part: number, other: number): number | null {
  return part + other === 0 ? null : part / (part + other);
}

/** What the object selects besides the minute rows: top files, breakdowns and the window's download count. */
export interface SummaryParts {
  top: TopFile[];
  breakdowns: Breakdowns;
  downloads: number;
}

export function buildSummary(first: number, minutes: number, rows: MinuteRow[], parts: SummaryParts): StatsSummary {
  const byMinute = new Map(rows.map((r) => [r.minute, r]));
  const series: SeriesPoint[] = [];
  const t = { copyBytes: 0, originBytes: 0, copyResponses: 0, originResponses: 0, refusals: 0 };
  for (let i = 0; i < minutes; i++) {
    const minute = first + i * MINUTE_MS;
    const r = byMinute.get(minute);
    if (r) {
      t.copyBytes += r.copyBytes;
      t.originBytes += r.originBytes;
      t.copyResponses += r.copyResponses;
      t.originResponses += r.originResponses;
      t.refusals += r.refusals;
    }
    const copyBytes = r?.copyBytes ?? 0;
    const originBytes = r?.originBytes ?? 0;
    series.push({ minute, copyBytes, originBytes, ratio: ratio(copyBytes, originBytes) });
  }
  const totals: StatsTotals = {
    ...t,
    hitRatio: ratio(t.copyResponses, t.originResponses),
    byteHitRatio: ratio(t.copyBytes, t.originBytes),
    downloads: parts.downloads,
  };
  return { windowMinutes: minutes, totals, series, top: parts.top, breakdowns: parts.breakdowns };
}
