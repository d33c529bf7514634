/**
 * The dashboard's offload section: totals, the offload-ratio chart, bytes per node,
 * mirror and country as bar plots, per Cache-Status class, top files, and next to every
 * table a CSV link with the same numbers (stats-tables.ts), then the purge form.
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { StatsSummary } from "../stats/types";
import { breakdownBarsSvg } from "./bars";
import { offloadChartSvg } from "./chart";
import type { CsvCell } from "./csv";
import { answers, bytes, pct, time } from "./format";
import { statsTable, type CellKind, type StatsTable, type StatsTableName } from "./stats-tables";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** The windows the page offers (minutes); any 1..2880 works by hand in the URL. */
export const WINDOW_CHOICES = [60, 360, 1440, 2880] as const;

export interface OffloadView {
  stats: StatsSummary | null;
  /** How many top files were asked for (the CSV link asks for the same). */
  top: number;
  csrf: string;
}

function cell(kind: CellKind, v: CsvCell): string {
  if (v === null) return "–";
  if (typeof v === "string") return v;
  if (kind === "bytes") return bytes(v);
  if (kind === "ratio") return pct(v);
  if (kind === "time") return time(v);
  return String(v);
}

/** Where a table's CSV is: the API route, with this page's window and top count. */
export function csvHref(name: StatsTableName, minutes: number, top: number): string {
  return `/_admin/api/stats/${name}.csv?${new URLSearchParams({ minutes: String(minutes), top: String(top) })}`;
}

function csvLink(t: StatsTable, v: OffloadView, minutes: number): Html {
  return html`<a href="${csvHref(t.name, minutes, v.top)}" class="csv" download>CSV</a>`;
}

function table(t: StatsTable, v: OffloadView, minutes: number, empty: string): Html {
  // Numbers align right; text cells stay bare (<td>…</td>).
  const open = (tag: "th" | "td", k: CellKind) => raw(k === "text" ? `<${tag}>` : `<${tag} class="num">`);
  return html`<table id="table-${t.name}"><thead><tr>${t.columns.map((c) => html`${open("th", c.kind)}${c.title}</th>`)}</tr></thead><tbody>
${t.rows.length ? t.rows.map((r) => html`<tr>${r.map((v, i) => html`${open("td", t.columns[i]!.kind)}${cell(t.columns[i]!.kind, v)}</td>`)}</tr>`) : html`<tr><td colspan="${t.columns.length}" class="muted">${empty}</td></tr>`}
</tbody></table><p class="muted">${csvLink(t, v, minutes)} of this table.</p>`;
}

function breakdown(s: StatsSummary, name: "nodes" | "mirrors" | "countries", v: OffloadView): Html {
  const t = statsTable(s, name);
  const unit = name === "mirrors" ? "redirect" : "download";
  return html`<section class="breakdown" id="breakdown-${name}"><h3>${t.title}</h3>
${breakdownBarsSvg({ id: `bars-${name}`, title: t.title, rows: s.breakdowns[name], unit })}
<details${s.breakdowns[name].length <= 12 ? raw(" open") : ""}><summary>Numbers</summary>${table(t, v, s.windowMinutes, "Nothing in this window.")}</details></section>`;
}

function windowForm(minutes: number): Html {
  return html`<form method="get" action="/_admin" id="window" class="inline"><label>Window <select name="minutes">${WINDOW_CHOICES.map(
    (m) => html`<option value="${m}"${m === minutes ? raw(" selected") : ""}>${m < 1440 ? `${m / 60} h` : `${m / 1440} d`}</option>`,
  )}</select></label> <button type="submit">Show</button></form>`;
}

export function offloadSection(v: OffloadView): Html {
  const purge = html`<form method="post" action="/_admin/purge" id="purge">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label>Purge a stored object: <input name="path" placeholder="/releases/file.iso" maxlength="2048"></label>
  <label>or every object under <input name="prefix" placeholder="/releases/1.2/" maxlength="2048"></label>
  <button type="submit">Purge in every colo</button></form>`;
  const s = v.stats;
  if (!s) return html`<h2>Offload</h2><p class="muted">No offload statistics (no STATS binding, or it did not answer).</p>${purge}`;
  const t = s.totals;
  const m = s.windowMinutes;
  return html`<h2>Offload, last ${m} minutes</h2>
${windowForm(m)}
<div class="cards" id="offload-totals">
  <div class="card">From copies<b>${bytes(t.copyBytes)}</b><span class="muted">${answers(t.copyResponses)}</span></div>
  <div class="card">From the origin<b>${bytes(t.originBytes)}</b><span class="muted">${answers(t.originResponses)}</span></div>
  <div class="card">Byte hit ratio<b>${pct(t.byteHitRatio)}</b></div>
  <div class="card">Hit ratio<b>${pct(t.hitRatio)}</b></div>
  <div class="card">Downloads<b>${t.downloads}</b><span class="muted">one per client and version</span></div>
  <div class="card">Accelerator refusals<b>${t.refusals}</b><span class="muted">503 from the guard</span></div>
</div>
<p class="muted">${csvLink(statsTable(s, "totals"), v, m)} of these totals.</p>
${raw(offloadChartSvg(s.series))}
<p class="muted">${csvLink(statsTable(s, "series"), v, m)} of the chart, one row per minute.</p>
${breakdown(s, "nodes", v)}
${breakdown(s, "mirrors", v)}
${breakdown(s, "countries", v)}
<h3>Per Cache-Status class</h3>
${table(statsTable(s, "classes"), v, m, "Nothing in this window.")}
<h3>Top files</h3>
${table(statsTable(s, "top-files"), v, m, "Nothing served yet.")}
${purge}`;
}
