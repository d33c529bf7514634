/**
 * GET /_admin/metrics: the Prometheus scrape (issue #15 part 2). Counters are the
 * all-time totals of every isolate, read from the OffloadStats object (never this
 * isolate's view); gauges are read at scrape time from the registries. Four RPCs in
 * parallel, no table scan: the counters table holds a bounded set of series
 * (stats/counters.ts), and per-file numbers stay in the JSON API (cardinality).
 */
import type { BaseConfig } from "../config/base-config";
import type { FarmsConfig } from "../config/farms-config";
import { memberViews } from "../farms/members";
import { farmRegistry } from "../farms/runtime";
import type { MemberRecord } from "../farms/types";
import { plain } from "../http/plain";
import { log } from "../platform/log";
import type { HealthRecord } from "../health/registry";
import { enabledMirrors } from "../mirrors/catalog-view";
import { COUNTERS, seriesKey, type CounterName, type CounterSample } from "../stats/counters";
import { EXPOSITION_CONTENT_TYPE, exposition, type Family } from "../stats/exposition";
import { STATS_OBJECT_NAME } from "../stats/recorder";

interface Deps {
  config: BaseConfig;
  farms: FarmsConfig;
}

/** The scrape's answer: 200 with the exposition, or 503 when the totals cannot be read (a partial scrape would look like counter resets). */
export async function metricsAnswer(env: Env, deps: Deps): Promise<Response> {
  let counters: CounterSample[];
  try {
    counters = (await env.STATS.get(env.STATS.idFromName(STATS_OBJECT_NAME)).counters()) as CounterSample[];
  } catch (e) {
    log.error("admin.metrics-unavailable", { error: String(e) });
    return plain(503, "metrics unavailable: the offload statistics object did not answer");
  }
  const registry = env.HEALTH.get(env.HEALTH.idFromName("registry"));
  const [health, mirrors, members] = await Promise.all([
    registry.snapshot() as Promise<Record<string, HealthRecord>>,
    enabledMirrors(env, deps.config.mirrors),
    deps.farms.farms.size ? (farmRegistry(env).snapshot() as Promise<Record<string, MemberRecord>>) : Promise.resolve({}),
  ]);
  const up = (id: string) => health[id]?.healthy ?? true; // never checked: up, as the registry says
  const gauges: Family[] = [
    {
      name: "offload_downloads_in_flight",
      type: "gauge",
      help: "Downloads in flight each node reported to the base's last health check (the isolate that answered it: an approximation of the node's load).",
      samples: deps.config.nodes.map((n) => ({ labels: { node: n.id }, value: health[n.id]?.load ?? 0 })),
    },
    {
      name: "offload_fills_in_progress",
      type: "gauge",
      help: "Coordinated cold fills under way, derived from the counters: started - completed - failed (floored at 0).",
      samples: [{ labels: {}, value: Math.max(0, total(counters, "offload_fills_started_total") - total(counters, "offload_fills_completed_total") - total(counters, "offload_fills_failed_total")) }],
    },
    {
      name: "offload_targets",
      type: "gauge",
      help: "Offload targets configured: kind=node (OFFLOAD_NODES) or kind=mirror (the mirror catalog's enabled mirrors).",
      samples: [
        { labels: { kind: "node" }, value: deps.config.nodes.length },
        { labels: { kind: "mirror" }, value: mirrors.length },
      ],
    },
    {
      name: "offload_targets_up",
      type: "gauge",
      help: "Offload targets the health registry holds up (rise/fall), by kind.",
      samples: [
        { labels: { kind: "node" }, value: deps.config.nodes.filter((n) => up(n.id)).length },
        { labels: { kind: "mirror" }, value: mirrors.filter((m) => up(m.id)).length },
      ],
    },
    {
      name: "offload_farm_members_up",
      type: "gauge",
      help: "Members of each farm that are healthy (rise/fall), whatever their admin state.",
      samples: [...deps.farms.farms.values()].map((f) => ({ labels: { farm: f.name }, value: memberViews(f, members, Date.now()).filter((m) => m.record.healthy).length })),
    },
  ];
  const body = exposition([...counterFamilies(counters), ...gauges]);
  return new Response(body, { headers: { "content-type": EXPOSITION_CONTENT_TYPE } });
}

function total(counters: CounterSample[], name: CounterName): number {
  return counters.filter((c) => c.name === name).reduce((n, c) => n + c.value, 0);
}

/**
 * One family per defined counter, every one present from the first scrape on: series
 * whose labels are all closed lists start at 0 (so rate() sees their first increase).
 */
function counterFamilies(counters: CounterSample[]): Family[] {
  return (Object.keys(COUNTERS) as CounterName[]).map((name) => {
    const seen = new Map<string, CounterSample>();
    for (const labels of zeroSeries(name)) seen.set(seriesKey(name, labels), { name, labels, value: 0 });
    for (const c of counters) if (c.name === name) seen.set(seriesKey(name, c.labels), c);
    const samples = [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => ({ labels: c.labels, value: c.value }));
    return { name, help: COUNTERS[name].help, type: "counter", samples };
  });
}

/** Every label combination of a counter whose labels are closed lists; none when one is a pattern. */
function zeroSeries(name: CounterName): Record<string, string>[] {
  let combos: Record<string, string>[] = [{}];
  for (const [label, rule] of Object.entries(COUNTERS[name].labels)) {
    if (!Array.isArray(rule)) return [];
    combos = combos.flatMap((c) => (rule as readonly string[]).map((v) => ({ ...c, [label]: v })));
  }
  return combos;
}
