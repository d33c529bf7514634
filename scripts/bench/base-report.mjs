/**
 * Tables of the base bench (terminal and Markdown). report.mjs is the node bench's (its
 * columns say "node"); this one takes any header.
 */

/** @param {string[]} head @param {string[][]} rows @param {Set<number>} right columns padded left */
export function textTable(head, rows, right = new Set()) {
  const all = [head, ...rows].map((r) => r.map(String));
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ");
  return [line(all[0]), widths.map((w) => "-".repeat(w)).join("-+-"), ...all.slice(1).map(line)].join("\n");
}

export function mdTable(head, rows, right = new Set()) {
  const esc = (s) => String(s).replaceAll("|", "\\|");
  return [
    `| ${head.map(esc).join(" | ")} |`,
    `|${head.map((_, i) => (right.has(i) ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

export const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : "n/a");
export const rate = (x) => (Number.isFinite(x) ? `${x.toFixed(0)} req/s` : "n/a");
