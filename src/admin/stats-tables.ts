/**
 * The tables of numbers the admin's offload section shows, defined once: the page
 * renders them (formatted) and the CSV export writes them (raw), so an export holds
 * exactly the numbers on the page (issue #15 part 6). Pure: a StatsSummary in, rows out.
 */
import type { CsvCell } from "./csv";
import type { BreakdownRow, StatsSummary } from "../stats/types";

/** How a cell is printed on the page; the CSV writes the raw value (times as ISO 8601 UTC). */
export type CellKind = "text" | "bytes" | "count" | "ratio" | "time";

export interface Column {
  /** CSV header: stable snake_case, what scripts key on. */
  key: string;
  /** Page header. */
  title: string;
  kind: CellKind;
}

export interface StatsTable {
  name: StatsTableName;
  title: string;
  columns: readonly Column[];
  rows: CsvCell[][];
}

export const STATS_TABLES = ["totals", "series", "top-files", "nodes", "mirrors", "countries", "classes"] as const;
export type StatsTableName = (typeof STATS_TABLES)[number];

export function isStatsTable(name: string): name is StatsTableName {
  return (STATS_TABLES as readonly string[]).includes(name);
}

const share = (part: number, whole: number) => (whole ? part / whole : null);

const BREAKDOWN: Record<"nodes" | "mirrors" | "countries" | "classes", { title: string; key: Column; downloads: string }> = {
  nodes: { title: "Bytes per node", key: { key: "node", title: "Node", kind: "text" }, downloads: "Downloads" },
  // The base only knows what it asked of a mirror: redirects, and the sizes of the files.
  mirrors: { title: "Bytes per mirror (sizes of the files redirected there)", key: { key: "mirror", title: "Mirror", kind: "text" }, downloads: "Redirects" },
  countries: { title: "Bytes per country", key: { key: "country", title: "Country", kind: "text" }, downloads: "Downloads" },
  classes: { title: "Bytes per Cache-Status class", key: { key: "cache_status", title: "Cache-Status", kind: "text" }, downloads: "Downloads" },
};

function breakdownTable(name: keyof typeof BREAKDOWN, rows: readonly BreakdownRow[]): StatsTable {
  const b = BREAKDOWN[name];
  return {
    name,
    title: b.title,
    columns: [
      b.key,
      { key: "bytes", title: "Bytes", kind: "bytes" },
      { key: "copy_bytes", title: "From copies", kind: "bytes" },
      { key: "copy_share", title: "Share from copies", kind: "ratio" },
      { key: b.downloads.toLowerCase(), title: b.downloads, kind: "count" },
    ],
    rows: rows.map((r) => [r.key, r.bytes, r.copyBytes, share(r.copyBytes, r.bytes), r.downloads]),
  };
}

export function statsTable(s: StatsSummary, name: StatsTableName): StatsTable {
  switch (name) {
    case "totals": {
      const t = s.totals;
      return {
        name,
        title: `Totals, last ${s.windowMinutes} minutes`,
        columns: [
          { key: "window_minutes", title: "Minutes", kind: "count" },
          { key: "copy_bytes", title: "From copies", kind: "bytes" },
          { key: "origin_bytes", title: "From the origin", kind: "bytes" },
          { key: "copy_answers", title: "Answers from copies", kind: "count" },
          { key: "origin_answers", title: "Answers from the origin", kind: "count" },
          { key: "downloads", title: "Downloads", kind: "count" },
          { key: "refusals", title: "Accelerator refusals", kind: "count" },
          { key: "byte_hit_ratio", title: "Byte hit ratio", kind: "ratio" },
          { key: "hit_ratio", title: "Hit ratio", kind: "ratio" },
        ],
        rows: [[s.windowMinutes, t.copyBytes, t.originBytes, t.copyResponses, t.originResponses, t.downloads, t.refusals, t.byteHitRatio, t.hitRatio]],
      };
    }
    case "series":
      return {
        name,
        title: "Per minute",
        columns: [
          { key: "minute", title: "Minute (UTC)", kind: "time" },
          { key: "copy_bytes", title: "From copies", kind: "bytes" },
          { key: "origin_bytes", title: "From the origin", kind: "bytes" },
          { key: "offload_ratio", title: "Offload ratio", kind: "ratio" },
        ],
        rows: s.series.map((p) => [p.minute, p.copyBytes, p.originBytes, p.ratio]),
      };
    case "top-files":
      return {
        name,
        title: "Top files",
        columns: [
          { key: "path", title: "Path", kind: "text" },
          { key: "bytes", title: "Bytes", kind: "bytes" },
          { key: "copy_bytes", title: "From copies", kind: "bytes" },
          { key: "copy_share", title: "Share from copies", kind: "ratio" },
          { key: "answers", title: "Answers", kind: "count" },
        ],
        rows: s.top.map((f) => [f.path, f.bytes, f.copyBytes, share(f.copyBytes, f.bytes), f.responses]),
      };
    default:
      return breakdownTable(name, s.breakdowns[name]);
  }
}

/** The CSV form of a cell: times as ISO 8601 UTC, everything else as it is. */
export function rawCell(kind: CellKind, v: CsvCell): CsvCell {
  return kind === "time" && typeof v === "number" ? new Date(v).toISOString() : v;
}
