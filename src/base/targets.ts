import type { BaseConfig } from "../config/base-config";
import type { TargetSpec } from "../config/targets";
import { select, strategyByName } from "../balancers/select";
import type { Selection, Strategy, Target, TargetState } from "../balancers/types";
import type { HealthRecord } from "../health/registry";
import { perIsolate } from "../platform/per-isolate";
import { disabledMirrors, knownVerdicts } from "../mirrors/view";
import type { ObjectInfo } from "./object-info";

interface Prepared {
  strategy: Strategy;
  targets: Target[];
  specs: Map<string, TargetSpec>;
  sequence: { n: number };
}

// Built once per env (isolate + deployment; the config is that env's): the strategy
// object, the balancer view of the targets, and the round-robin sequence of this isolate.
const prepare = perIsolate((_env: object, config: BaseConfig): Prepared => {
  const all = [...config.nodes, ...config.mirrors];
  return {
    strategy: strategyByName(config.balancer),
      // An empty prefix list means "holds everything" in our config; "/" says so to the balancers.
      targets: all.map((t) => ({ id: t.id, url: t.url, weight: t.weight, prefixes: t.prefixes.length ? t.prefixes : ["/"], ...(t.location ? { location: t.location } : {}) })),
      specs: new Map(all.map((t) => [t.id, t])),
    sequence: { n: Math.floor(Math.random() * 1_000_000) },
  };
});

export interface TargetChoice {
  selection: Selection;
  /** The targets in preference order, as configured (kind, health path...). */
  ranked: TargetSpec[];
}

/** Health (from the registry view) filtered apart, then the configured strategy ranks. */
export function chooseTargets(env: object, config: BaseConfig, path: string, health: Record<string, HealthRecord>, cf: IncomingRequestCfProperties | undefined): TargetChoice {
  const p = prepare(env, config);
  const stateOf = (id: string): TargetState => {
    const h = health[id];
    if (!h) return { healthy: true };
    const s: TargetState = { healthy: h.healthy, reason: h.reason, reportedAt: h.checkedAt };
    if (h.load !== undefined) s.load = h.load;
    return s;
  };
  const client: { lat?: number; lon?: number; country?: string; continent?: string } = {};
  const lat = Number(cf?.latitude);
  const lon = Number(cf?.longitude);
  if (cf?.latitude !== undefined && Number.isFinite(lat) && Number.isFinite(lon)) Object.assign(client, { lat, lon });
  if (typeof cf?.country === "string") client.country = cf.country;
  if (typeof cf?.continent === "string") client.continent = cf.continent;
  const selection = select(p.strategy, p.targets, stateOf, { path, client, random: Math.random, sequence: p.sequence.n++, now: Date.now() });
  return { selection, ranked: selection.ranked.map((t) => p.specs.get(t.id)!).filter(Boolean) };
}

/**
 * Issue #14: a mirror stays in the choice (Location, Link, X-Mirrored-By, .meta4) only
 * while its copy of this version of the file is known current; our nodes are current by
 * construction. Unknown verdicts are fetched in the background (mirrors/view.ts).
 */
export function withCurrentMirrors(choice: TargetChoice, { env, config, path, info, ctx }: { env: Env; config: BaseConfig; path: string; info: ObjectInfo; ctx: ExecutionContext }): TargetChoice {
  const mirrors = choice.ranked.filter((t) => t.kind === "mirror");
  if (mirrors.length === 0) return choice;
  const inventory = () => env.MIRROR_INVENTORY.get(env.MIRROR_INVENTORY.idFromName("inventory"));
  // Mirrors the lag policy disabled are out for every file, even those they hold current.
  const disabled = disabledMirrors(env, inventory, ctx);
  const verdicts = knownVerdicts(env, inventory, {
    path,
    origin: { size: info.size, lastModified: info.lastModified, etag: info.etag, sha256: info.sha256 },
    mirrors: mirrors.map((m) => ({ id: m.id, url: m.url, originEtags: m.originEtags ?? false })),
    ...config.mirrorChecks,
  }, ctx);
  const keep = choice.ranked.map((t) => t.kind !== "mirror" || (!disabled.has(t.id) && verdicts[t.id]?.verdict === "current"));
  const excluded = choice.selection.ranked.filter((_, i) => !keep[i]).map((target) => {
    const off = disabled.get(target.id);
    if (off !== undefined) return { target, reason: `mirror disabled: ${off}` };
    const v = verdicts[target.id];
    return { target, reason: v ? `copy ${v.verdict}: ${v.detail}` : "copy not verified yet" };
  });
  const ranked = choice.selection.ranked.filter((_, i) => keep[i]);
  return {
    selection: { chosen: ranked[0] ?? null, ranked, excluded: [...choice.selection.excluded, ...excluded] },
    ranked: choice.ranked.filter((_, i) => keep[i]),
  };
}
