/**
 * Prometheus text exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats):
 * one `# HELP` and one `# TYPE` line per family, then its samples, `\n` line ends. Pure.
 */

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface Family {
  /** [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in `_total` (OpenMetrics naming, kept here too). */
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: { labels: Record<string, string>; value: number }[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** HELP text: backslash and line feed escaped (the format's only escapes there). */
const escapeHelp = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
/** Label values: backslash, double quote and line feed escaped. */
const escapeLabel = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** The exposition of `families`, in the order given; throws on a name the format cannot carry (a bug here, not input). */
export function exposition(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    if (!NAME.test(f.name)) throw new Error(`metric name ${JSON.stringify(f.name)} is not valid`);
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => {
        if (!LABEL.test(k) || k.startsWith("__")) throw new Error(`label name ${JSON.stringify(k)} is not valid`);
        return `${k}="${escapeLabel(v)}"`;
      });
      lines.push(`${f.name}${labels.length ? `{${labels.join(",")}}` : ""} ${formatValue(s.value)}`);
    }
  }
  return lines.join("\n") + "\n";
}
