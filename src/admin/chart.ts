/**
 * The offload-ratio chart: an inline SVG (no script, no external asset), one point per
 * minute, gaps where no bytes were served. Only numbers reach the markup, so it needs no
 * escaping beyond what the page does.
 */
import type { SeriesPoint } from "../stats/types";

const W = 720;
const H = 180;
const PAD = { left: 44, right: 12, top: 12, bottom: 28 };

export function offloadChartSvg(series: readonly SeriesPoint[]): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const n = series.length;
  const x = (i: number) => PAD.left + (n <= 1 ? plotW : (i / (n - 1)) * plotW);
  const y = (ratio: number) => PAD.top + (1 - ratio) * plotH;
  // One polyline per run of minutes with traffic: an idle minute is not a 0 % minute.
  const runs: string[][] = [];
  let run: string[] | null = null;
  series.forEach((p, i) => {
    if (p.ratio === null) {
      run = null;
      return;
    }
    if (!run) runs.push((run = []));
    run.push(`${x(i).toFixed(1)},${y(p.ratio).toFixed(1)}`);
  });
  const lines = runs
    .map((r) => (r.length === 1 ? `<circle cx="${r[0]!.split(",")[0]}" cy="${r[0]!.split(",")[1]}" r="2.5" class="pt"/>` : `<polyline points="${r.join(" ")}" class="line"/>`))
    .join("");
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((g) => `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(g)}" y2="${y(g)}" class="grid"/><text x="${PAD.left - 6}" y="${y(g) + 4}" class="axis" text-anchor="end">${g * 100}%</text>`)
    .join("");
  const label = (i: number) => (n ? new Date(series[i]!.minute).toISOString().slice(11, 16) : "");
  const times = n ? `<text x="${x(0)}" y="${H - 8}" class="axis">${label(0)}</text><text x="${x(n - 1)}" y="${H - 8}" class="axis" text-anchor="end">${label(n - 1)} UTC</text>` : "";
  const title = `Offload ratio (bytes from copies / all bytes) per minute, last ${n} minutes`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${title}" id="offload-chart"><title>${title}</title>${grid}${lines}${times}</svg>`;
}
