/** A stats table as a CSV download (RFC 4180; `header=present` is its §3 media-type parameter). */
import { toCsv } from "./csv";
import { rawCell, type StatsTable } from "./stats-tables";

export function csvAnswer(t: StatsTable, minutes: number): Response {
  const body = toCsv(
    t.columns.map((c) => c.key),
    t.rows.map((r) => r.map((v, i) => rawCell(t.columns[i]!.kind, v))),
  );
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8; header=present",
      // RFC 6266: a file name a browser saves it under; only [a-z0-9-] reach it.
      "content-disposition": `attachment; filename="offload-${t.name}-${minutes}m.csv"`,
    },
  });
}
