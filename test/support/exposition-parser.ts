/**
 * A strict parser of the Prometheus text exposition format 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats), stricter than Prometheus itself
 * where our own rules are stricter: every family has exactly one HELP and one TYPE, both
 * before its first sample; a family's samples are contiguous; counters end in `_total`
 * and are never negative or NaN; no series appears twice; only the format's escapes
 * (`\\`, `\"`, `\n` in label values; `\\`, `\n` in HELP). Throws an Error naming the line.
 */

export interface ParsedSample {
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  samples: ParsedSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function fail(line: number, why: string): never {
  throw new Error(`exposition line ${line}: ${why}`);
}

function parseValue(s: string, line: number): number {
  if (s === "NaN") return NaN;
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (!FLOAT.test(s)) fail(line, `value ${JSON.stringify(s)} is not a number`);
  return Number(s);
}

function unescapeHelp(s: string, line: number): string {
  return s.replace(/\\(.?)/g, (_m, c: string) => (c === "\\" ? "\\" : c === "n" ? "\n" : fail(line, `bad escape \\${c} in HELP`)));
}

/** `{a="x",b="y"}` starting at `s[0] === "{"`: the labels and the rest of the line after `}`. */
function parseLabels(s: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (s[i] === "}") return { labels, rest: s.slice(i + 1) };
    const eq = s.indexOf("=", i);
    if (eq < 0) fail(line, "label without =");
    const name = s.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(line, `bad label name ${JSON.stringify(name)}`);
    if (Object.hasOwn(labels, name)) fail(line, `label ${name} twice`);
    if (s[eq + 1] !== '"') fail(line, `label ${name}: value not quoted`);
    let v = "";
    let j = eq + 2;
    for (;; j++) {
      const c = s[j];
      if (c === undefined) fail(line, `label ${name}: unterminated value`);
      if (c === '"') break;
      if (c === "\\") {
        const e = s[++j];
        if (e === "\\") v += "\\";
        else if (e === '"') v += '"';
        else if (e === "n") v += "\n";
        else fail(line, `label ${name}: bad escape \\${e ?? ""}`);
      } else v += c;
    }
    labels[name] = v;
    i = j + 1;
    if (s[i] === ",") i++;
    else if (s[i] !== "}") fail(line, `expected , or } after label ${name}`);
  }
}

export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text.length > 0 && !text.endsWith("\n")) fail(text.split("\n").length, "the last line does not end with a line feed");
  const families = new Map<string, ParsedFamily & { typed?: boolean }>();
  const helped = new Set<string>();
  const series = new Set<string>();
  const finished = new Set<string>();
  let current: string | null = null;
  const lines = text.split("\n");
  lines.pop();
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ""] = m as unknown as [string, string, string, string | undefined];
      if (!NAME.test(name)) fail(line, `bad metric name ${JSON.stringify(name)}`);
      const fam = families.get(name);
      if (fam?.samples.length || finished.has(name)) fail(line, `${kind} for ${name} after its samples`);
      if (kind === "HELP") {
        if (helped.has(name)) fail(line, `second HELP for ${name}`);
        helped.add(name);
        const help = unescapeHelp(rest, line);
        if (fam) fam.help = help;
        else families.set(name, { name, help, type: "untyped", samples: [] });
      } else {
        if (!TYPES.has(rest)) fail(line, `bad TYPE ${JSON.stringify(rest)} for ${name}`);
        if (fam?.typed) fail(line, `second TYPE for ${name}`);
        if (rest === "counter" && !name.endsWith("_total")) fail(line, `counter ${name} does not end in _total`);
        const f = fam ?? { name, help: "", type: "untyped" as const, samples: [] };
        families.set(name, Object.assign(f, { type: rest as ParsedFamily["type"], typed: true }));
      }
      return;
    }
    const m = /^([^\s{]+)(.*)$/.exec(raw);
    const name = m?.[1] ?? "";
    if (!NAME.test(name)) fail(line, `bad metric name ${JSON.stringify(name)}`);
    const fam = families.get(name);
    if (!fam?.typed) fail(line, `sample of ${name} before its TYPE`);
    if (!helped.has(name)) fail(line, `sample of ${name} without HELP`);
    if (current !== name) {
      if (finished.has(name)) fail(line, `samples of ${name} are not contiguous`);
      if (current) finished.add(current);
      current = name;
    }
    let rest = m![2]!;
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, line));
    const parts = rest.split(" ");
    if (parts[0] !== "" || parts.length < 2 || parts.length > 3 || parts.slice(1).includes("")) fail(line, "expected one space, a value and an optional timestamp");
    const value = parseValue(parts[1]!, line);
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) fail(line, `timestamp ${JSON.stringify(parts[2])} is not an integer`);
    if (fam.type === "counter" && (Number.isNaN(value) || value < 0)) fail(line, `counter ${name} is ${value}`);
    const key = `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(",")}}`;
    if (series.has(key)) fail(line, `series ${key} twice`);
    series.add(key);
    fam.samples.push({ labels, value });
  });
  for (const [name, f] of families) {
    if (!f.typed) fail(lines.length, `${name} has HELP but no TYPE`);
    delete f.typed;
  }
  return families;
}

/** The value of one series (labels exactly as given), or undefined when absent. */
export function sampleValue(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return families.get(name)?.samples.find((s) => JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}
