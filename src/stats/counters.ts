/**
 * The all-time counters /_admin/metrics exports (issue #15 part 2): every name, its help
 * text and the labels it may carry, each label with a closed set of values (or a pattern
 * that admits few), so the series count is bounded by this table, not by traffic. Writers
 * batch samples (recorder.ts `countEvent`), the OffloadStats object sums them forever.
 * Pure: the batch validation, the object and the exposition all read this one table.
 */

/** A label's allowed values: a closed list, or a pattern over a bounded alphabet. */
type LabelRule = readonly string[] | RegExp;

interface CounterDef {
  help: string;
  labels: Readonly<Record<string, LabelRule>>;
}

/**
 * RFC 9211 §2.2 forward reasons, plus `hit` (§2.1) and `none` (an answer without our
 * Cache-Status member, or one that neither hit nor forwarded, such as the guard's 503).
 */
export const CACHE_STATUS_CLASSES = ["hit", "bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale", "partial", "none"] as const;
export type CacheStatusClass = (typeof CACHE_STATUS_CLASSES)[number];

export const COUNTERS = {
  offload_served_bytes_total: {
    help: "Body bytes delivered (pulled by the clients, counted when each body ends or its client leaves), by where they came from: source=copy (our stored copy) or source=origin (crossed from the origin).",
    labels: { source: ["copy", "origin"] },
  },
  offload_answers_total: {
    help: "Answers of the nodes and of the base serving files itself (redirects excluded), by Cache-Status class (RFC 9211: hit, the fwd reason, or none) and status code.",
    labels: { cache_status: CACHE_STATUS_CLASSES, code: /^[1-5][0-9][0-9]$/ },
  },
  offload_downloads_total: {
    help: "Downloads: distinct (client, object version) pairs within an hour, however many connections or ranges each used; counted by the OffloadStats object, which dedupes them.",
    labels: {},
  },
  offload_guard_refusals_total: {
    help: "Downloads refused by the accelerator guard (503, Cache-Status detail=concurrency-limit).",
    labels: {},
  },
  offload_fills_started_total: { help: "Coordinated cold fills started (one per object version, however many clients joined it).", labels: {} },
  offload_fills_completed_total: { help: "Coordinated cold fills whose copy was stored and committed.", labels: {} },
  offload_fills_failed_total: {
    help: "Coordinated cold fills given up: the origin changed or failed, nobody asked any more, or the pointer moved on before the commit.",
    labels: {},
  },
  offload_origin_errors_total: {
    help: "Answers for which the origin gave no usable reply: answer=error (an error page: Cache-Status detail=origin-error) or answer=stale (a copy served instead, detail=stale-if-error).",
    labels: { answer: ["error", "stale"] },
  },
  offload_health_transitions_total: {
    help: "Up/down flips of the health model (rise/fall): registry=targets (nodes, mirrors, proxy backends) or registry=farms (farm members).",
    labels: { registry: ["targets", "farms"], to: ["up", "down"] },
  },
} as const satisfies Record<string, CounterDef>;

export type CounterName = keyof typeof COUNTERS;
export type CounterLabels = Record<string, string>;

/** One counter series and what to add to it (in a batch), or its total (read back). */
export interface CounterSample {
  name: CounterName;
  labels: CounterLabels;
  value: number;
}

/** The one key of a series: name plus labels in name order (label values admit no `,` `=` `"`). */
export function seriesKey(name: string, labels: CounterLabels): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(",")}}`;
}

/**
 * Why `name` with `labels` is not an allowed series, or null when it is. Exactly the
 * defined labels, each with an allowed value: anything else would grow the series count.
 */
export function counterProblem(name: unknown, labels: unknown): string | null {
  if (typeof name !== "string" || !Object.hasOwn(COUNTERS, name)) return `unknown counter ${JSON.stringify(String(name)).slice(0, 80)}`;
  const def: CounterDef = COUNTERS[name as CounterName];
  if (typeof labels !== "object" || labels === null || Array.isArray(labels)) return "labels must be an object";
  const given = labels as Record<string, unknown>;
  for (const key of Object.keys(given)) if (!Object.hasOwn(def.labels, key)) return `label ${JSON.stringify(key.slice(0, 40))} is not one of ${name}`;
  for (const [key, rule] of Object.entries(def.labels)) {
    const v = given[key];
    if (typeof v !== "string") return `label ${key} is missing or not a string`;
    const ok = Array.isArray(rule) ? rule.includes(v) : (rule as RegExp).test(v);
    if (!ok) return `label ${key}: ${JSON.stringify(v.slice(0, 40))} is not an allowed value`;
  }
  return null;
}
