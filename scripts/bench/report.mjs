/**
 * The result table (terminal and Markdown). A row:
 *   { id, what, node, baseline, unit, ratio, ratioIsDelta?, goal, pass }
 * pass: true / false, or null for a row with no goal (goal "info"); a figure that could
 * not be measured has an `error`.
 */

function num(v, unit) {
  if (!Number.isFinite(v)) return "n/a";
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

/**
 * Two decimals, rounded towards the goal's failing side (down against ">=", up against
 * "<="), so the figure shown never contradicts the result column: 0.89995 against ">= 0.9"
 * reads 0.89x, not 0.90x.
 */
export function ratioText(ratio, goal) {
  const g = goal ?? "";
  const shown = /^(>=|≥)/.test(g) ? Math.floor(ratio * 100 + 1e-9) / 100 : /^(<=|≤)/.test(g) ? Math.ceil(ratio * 100 - 1e-9) / 100 : ratio;
  return `${shown.toFixed(2)}x`;
}

function cells(row) {
  if (row.error) return [row.id, row.what, "error", "", "", row.goal ?? "", "MISS"];
  const ratio = row.ratioIsDelta
    ? `${row.ratio >= 0 ? "+" : ""}${row.ratio.toFixed(1)} ms`
    : Number.isFinite(row.ratio) ? ratioText(row.ratio, row.goal) : "n/a";
  return [row.id, row.what, num(row.node, row.unit), num(row.baseline, row.unit), ratio, row.goal, row.pass === null ? "info" : row.pass ? "pass" : "MISS"];
}

const HEAD = ["#", "figure", "node", "baseline", "ratio", "goal", "result"];

export function textTable(rows) {
  return plainTable(HEAD, rows.map(cells), (i) => i >= 2 && i <= 4);
}

/**
 * A figure's own table (e.g. the chunk-size sweep): `head` and `rows` are cell strings;
 * `right(i)` says which columns are right-aligned (numbers; all but the first by default).
 */
export function plainTable(head, rows, right = (i) => i > 0) {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (right(i) ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join(" | ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("-+-"), ...rows.map(line)].join("\n");
}

/** @param {{ rows: object[], notes: string[], header: string[], tables?: { title: string, head: string[], rows: string[][] }[] }} o */
export function markdown({ rows, notes, header, tables = [] }) {
  const esc = (s) => String(s).replaceAll("|", "\\|");
  const out = [
    "# Offload node benchmark",
    "",
    ...header.map((h) => `- ${esc(h)}`),
    "",
    `| ${HEAD.join(" | ")} |`,
    `|${HEAD.map((_, i) => (i >= 2 && i <= 4 ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${cells(r).map(esc).join(" | ")} |`),
    "",
    ...tables.flatMap((t) => [
      `## ${t.title}`,
      "",
      `| ${t.head.map(esc).join(" | ")} |`,
      `|${t.head.map((_, i) => (i > 0 ? "---:" : "---")).join("|")}|`,
      ...t.rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
      "",
    ]),
    "## Notes",
    "",
    ...notes.map((n) => `- ${n}`),
    "",
  ];
  return out.join("\n");
}
