import { describe, expect, it } from "vitest";
import { breakdownBarsSvg, MAX_BARS } from "../../src/admin/bars";
import { rawCell, STATS_TABLES, statsTable } from "../../src/admin/stats-tables";
import type { StatsSummary } from "../../src/stats/types";

const summary: StatsSummary = {
  windowMinutes: 2,
  totals: { copyBytes: 30, originBytes: 10, copyResponses: 3, originResponses: 1, refusals: 2, hitRatio: 0.75, byteHitRatio: 0.75, downloads: 2 },
  series: [
    { minute: 0, copyBytes: 0, originBytes: 0, ratio: null },
    { minute: 60_000, copyBytes: 30, originBytes: 10, ratio: 0.75 },
  ],
  top: [{ path: "/a.iso", bytes: 40, responses: 4, copyBytes: 30 }],
  breakdowns: {
    nodes: [{ key: "node-a", bytes: 40, copyBytes: 30, downloads: 2 }],
    mirrors: [{ key: "m1", bytes: 0, copyBytes: 0, downloads: 3 }],
    countries: [],
    classes: [{ key: "hit", bytes: 30, copyBytes: 30, downloads: 1 }],
  },
};

describe("admin stats tables", () => {
  it("every table's rows are as wide as its columns, with the summary's numbers", () => {
    for (const name of STATS_TABLES) {
      const t = statsTable(summary, name);
      for (const r of t.rows) expect(r).toHaveLength(t.columns.length);
    }
    expect(statsTable(summary, "totals").rows).toEqual([[2, 30, 10, 3, 1, 2, 2, 0.75, 0.75]]);
    expect(statsTable(summary, "nodes").rows).toEqual([["node-a", 40, 30, 0.75, 2]]);
    // No bytes: no share (the page prints "–", the CSV an empty cell), never NaN.
    expect(statsTable(summary, "mirrors").rows).toEqual([["m1", 0, 0, null, 3]]);
    expect(statsTable(summary, "mirrors").columns.at(-1)!.key).toBe("redirects");
    expect(statsTable(summary, "series").rows[0]).toEqual([0, 0, 0, null]);
    expect(rawCell("time", 60_000)).toBe("1970-01-01T00:01:00.000Z");
  });

  it("the bar plot escapes keys, draws at most MAX_BARS bars and says how many it left out", async () => {
    const rows = Array.from({ length: MAX_BARS + 3 }, (_, i) => ({ key: i ? `c${i}` : `<script>"x"&`, bytes: 100 - i, copyBytes: 50, downloads: 1 }));
    const svg = String(await breakdownBarsSvg({ id: "bars-x", title: "Bytes per thing", rows, unit: "download" }));
    expect(svg).not.toContain("<script>");
    expect(svg).toContain("&lt;script&gt;&quot;x&quot;&amp;");
    expect(svg.match(/<g /g)).toHaveLength(MAX_BARS);
    expect(svg).toContain(`(largest ${MAX_BARS} of ${MAX_BARS + 3})`);
    expect(svg).toContain("1 download<");
    const empty = String(await breakdownBarsSvg({ id: "bars-y", title: "t", rows: [], unit: "redirect" }));
    expect(empty).toContain("nothing in this window");
  });
});
