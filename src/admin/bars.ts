/**
 * A breakdown's bar plot: an inline SVG (no script, no external asset), one bar per
 * node, mirror or country, longest first, the part served from our copies drawn darker.
 * Built with hono/html, so keys (mirror ids, node ids, country codes) are escaped.
 */
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { BreakdownRow } from "../stats/types";
import { bytes } from "./format";

const W = 720;
const ROW = 22;
const LABEL = 150;
const VALUE = 170;
/** More bars than this stop being readable: the table (and the CSV) below the plot has every row. */
export const MAX_BARS = 12;

export function breakdownBarsSvg(p: { id: string; title: string; rows: readonly BreakdownRow[]; /** Singular: "download", "redirect". */ unit: string }): HtmlEscapedString | Promise<HtmlEscapedString> {
  const rows = p.rows.slice(0, MAX_BARS);
  const max = Math.max(1, ...rows.map((r) => r.bytes));
  const plotW = W - LABEL - VALUE;
  const h = Math.max(1, rows.length) * ROW + 8;
  const len = (n: number) => ((n / max) * plotW).toFixed(1);
  const more = p.rows.length - rows.length;
  const title = `${p.title}${more > 0 ? ` (largest ${rows.length} of ${p.rows.length})` : ""}`;
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${title}" id="${p.id}" class="bars"><title>${title}</title>${
    rows.length
      ? rows.map((r, i) => {
          const y = 4 + i * ROW;
          return html`<g data-key="${r.key}"><text x="${LABEL - 8}" y="${y + 15}" class="axis" text-anchor="end">${r.key}</text><rect x="${LABEL}" y="${y + 3}" width="${len(r.bytes)}" height="${ROW - 6}" class="all"/><rect x="${LABEL}" y="${y + 3}" width="${len(r.copyBytes)}" height="${ROW - 6}" class="copy"/><text x="${W - VALUE + 8}" y="${y + 15}" class="axis">${bytes(r.bytes)} · ${r.downloads} ${p.unit}${r.downloads === 1 ? "" : "s"}</text></g>`;
        })
      : html`<text x="${LABEL}" y="18" class="axis">nothing in this window</text>`
  }</svg>`;
}
