import { describe, expect, it } from "vitest";
import type { StatsSummary } from "../../../src/stats/types";
import { parseCsv } from "../../support/csv-parser";
import { putFile, uniquePath } from "../../support/origin";
import { baseFetch } from "../support";

const bearer = { authorization: "Bearer admin-test-token-0123456789" };

async function summary(): Promise<StatsSummary> {
  const res = await baseFetch("/_admin/api/stats?minutes=5&top=100", { headers: bearer });
  expect(res.status).toBe(200);
  return res.json();
}

async function csv(name: string, query = "minutes=5&top=100"): Promise<string[][]> {
  const res = await baseFetch(`/_admin/api/stats/${name}.csv?${query}`, { headers: bearer });
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
  expect(res.headers.get("content-disposition")).toBe(`attachment; filename="offload-${name}-5m.csv"`);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return parseCsv(await res.text());
}

/** Serves a small file from the base (counted as origin bytes) and waits until the totals show it. */
async function served(): Promise<{ path: string; after: StatsSummary }> {
  const path = uniquePath("export,\"me\".bin");
  await putFile(path, 4321);
  const before = await summary();
  const res = await baseFetch(path);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  let after = before;
  for (let i = 0; i < 50 && after.totals.originResponses === before.totals.originResponses; i++) {
    await new Promise((r) => setTimeout(r, 50)); // the flush runs in waitUntil
    after = await summary();
  }
  return { path, after };
}

describe("admin: CSV export of the offload numbers", () => {
  it("writes the totals, the top files and the per-minute series with the numbers the JSON API gives", async () => {
    const { path, after } = await served();
    const [header, row, ...rest] = await csv("totals");
    expect(rest).toEqual([]);
    expect(header).toEqual(["window_minutes", "copy_bytes", "origin_bytes", "copy_answers", "origin_answers", "downloads", "refusals", "byte_hit_ratio", "hit_ratio"]);
    const t = after.totals;
    expect(row!.slice(0, 7).map(Number)).toEqual([5, t.copyBytes, t.originBytes, t.copyResponses, t.originResponses, t.downloads, t.refusals]);

    const files = await csv("top-files");
    expect(files[0]).toEqual(["path", "bytes", "copy_bytes", "copy_share", "answers"]);
    // The path as the totals hold it (quotes percent-encoded, the comma kept): the comma
    // survives the quoting, parsed back by a strict RFC 4180 parser.
    const stored = after.top.find((f) => f.path.startsWith(path.slice(0, path.indexOf(","))))!.path;
    expect(stored).toContain(",");
    expect(files.find((r) => r[0] === stored)).toEqual([stored, "4321", "0", "0", "1"]);

    const series = await csv("series");
    expect(series).toHaveLength(1 + 5);
    expect(series.slice(1).map((r) => r[0])).toEqual(after.series.map((p) => new Date(p.minute).toISOString()));
    expect(series.slice(1).reduce((n, r) => n + Number(r[2]), 0)).toBe(after.totals.originBytes);
  });

  it("writes the breakdowns in the summary's order", async () => {
    const { after: s } = await served();
    // The base served a file itself: its own id is a node row, its class a class row.
    expect(s.breakdowns.nodes.map((n) => n.key)).toContain("test-base");
    expect(s.breakdowns.classes.map((n) => n.key)).toContain("bypass");
    for (const name of ["nodes", "mirrors", "countries", "classes"] as const) {
      const [header, ...rows] = await csv(name);
      expect(header![0]).toBe({ nodes: "node", mirrors: "mirror", countries: "country", classes: "cache_status" }[name]);
      expect(rows.map((r) => r[0])).toEqual(s.breakdowns[name].map((b) => b.key));
    }
  });

  it("refuses what it cannot answer: no credentials 401, an unknown table 404 naming it, a bad window 400", async () => {
    const anon = await baseFetch("/_admin/api/stats/totals.csv");
    expect(anon.status).toBe(401);
    expect(await anon.text()).not.toContain("window_minutes");
    const unknown = await baseFetch("/_admin/api/stats/secrets.csv", { headers: bearer });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('unknown stats table "secrets.csv"');
    expect((await baseFetch("/_admin/api/stats/totals.json", { headers: bearer })).status).toBe(404);
    const bad = await baseFetch("/_admin/api/stats/totals.csv?minutes=0", { headers: bearer });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("minutes must be a whole number from 1 to 2880");
    expect((await baseFetch("/_admin/api/stats/totals.csv?top=101", { headers: bearer })).status).toBe(400);
  });

  it("the page shows the window it was asked for, the plots, and a CSV link beside every table", async () => {
    const page = await (await baseFetch("/_admin?minutes=1440", { headers: bearer })).text();
    expect(page).toContain("Offload, last 1440 minutes");
    expect(page).toContain('<option value="1440" selected>1 d</option>');
    for (const name of ["nodes", "mirrors", "countries"]) expect(page).toMatch(new RegExp(`<svg[^>]*id="bars-${name}"`));
    for (const name of ["totals", "series", "top-files", "nodes", "mirrors", "countries", "classes"]) {
      expect(page).toContain(`href="/_admin/api/stats/${name}.csv?minutes=1440&amp;top=10"`);
    }
    // A hand-edited window is clamped, not refused.
    expect(await (await baseFetch("/_admin?minutes=99999", { headers: bearer })).text()).toContain("Offload, last 2880 minutes");
  });
});
