import type { BaseConfig } from "../config/base-config";
import type { TargetSpec } from "../config/targets";
import { select, strategyByName } from "../balancers/select";
import type { ClientInfo, Selection, Strategy, Target, TargetState } from "../balancers/types";
import type { HealthRecord } from "../health/registry";
import { perIsolate } from "../platform/per-isolate";
import type { Catalog } from "../mirrors/catalog";
import { checkCopies } from "../mirrors/copies";
import { forgetKnownVerdicts, knownVerdicts } from "../mirrors/view";
import { CLIENT_IP_HEADER } from "../limits/client-key";
import { parseIp } from "../net/ip";
import type { ObjectInfo } from "./object-info";

interface Prepared {
  strategy: Strategy;
  targets: Target[];
  specs: Map<string, TargetSpec>;
  sequence: { n: number };
  /** The catalog version `targets` were built from (null: not yet built). */
  catalogVersion: number | null;
  /** Some target declares ipv4 or ipv6 false: only then is the client's address family read. */
  familyMatters: boolean;
  /**
   * Choices kept per path while the strategy ranks by path alone (hash, bounded-hash,
   * least-loaded) and the client's address family does not matter: a choice is then a
   * function of the path, the health view and the target list, so a hot file is ranked
   * once per health view (a new view object every refresh, VIEW_TTL_MS) instead of being
   * hashed against every target on every redirect (issue #13). Emptied when the view
   * object or the target list changes; bounded (MAX_KEPT_CHOICES, oldest out first).
   */
  kept: { health: object | null; byPath: Map<string, TargetChoice> };
}

const MAX_KEPT_CHOICES = 1000;

// An empty prefix list means "holds everything" in our config; "/" says so to the balancers.
const toTarget = (t: TargetSpec): Target => ({ id: t.id, url: t.url, weight: t.weight, prefixes: t.prefixes.length ? t.prefixes : ["/"], ...(t.location ? { location: t.location } : {}), ...networkOf(t) });

// Kept per env (isolate + deployment; the config is that env's): the strategy object and
// the round-robin sequence of this isolate, and the balancer view of the nodes plus the
// catalog's enabled mirrors, rebuilt only when the catalog's version moves.
const prepare = perIsolate((_env: object, config: BaseConfig): Prepared => ({
  strategy: strategyByName(config.balancer),
  targets: [],
  specs: new Map(),
  sequence: { n: Math.floor(Math.random() * 1_000_000) },
  catalogVersion: null,
  familyMatters: false,
  kept: { health: null, byPath: new Map() },
}));

function prepared(env: object, config: BaseConfig, catalog: Catalog): Prepared {
  const p = prepare(env, config);
  if (p.catalogVersion === catalog.version) return p;
  // Disabled mirrors are never chosen, so never named in Location, Link or a .meta4.
  const all = [...config.nodes, ...catalog.mirrors.filter((m) => m.enabled).map((m) => m.spec)];
  // A change (rescan, enable, another URL) may void verdicts this isolate holds: ask again.
  if (p.catalogVersion !== null) forgetKnownVerdicts(env);
  Object.assign(p, {
    targets: all.map(toTarget),
    specs: new Map(all.map((t) => [t.id, t])),
    catalogVersion: catalog.version,
    familyMatters: all.some((t) => t.ipv4 === false || t.ipv6 === false),
    kept: { health: null, byPath: new Map() },
  });
  return p;
}

/**
 * The address family the client connected with. Cloudflare's Pseudo IPv4 "Overwrite
 * Headers" puts a Class E address (240.0.0.0/4, reserved by RFC 1112 §4 and never a real
 * client) hashed from an IPv6 client's address into CF-Connecting-IP, and the real one in
 * CF-Connecting-IPv6: such a client is an IPv6 client and must not reach an IPv4-only host.
 */
function clientFamily(headers: Headers): 4 | 6 | undefined {
  if (headers.has("cf-connecting-ipv6")) return 6;
  const ip = parseIp(headers.get(CLIENT_IP_HEADER)?.trim() ?? "");
  if (ip?.family === 4 && ip.value >> 28n === 0xfn) return 6;
  return ip?.family;
}

/** The network fields a target declares (undeclared ones stay absent: served / no AS). */
function networkOf(t: TargetSpec): Pick<Target, "asns" | "ipv4" | "ipv6"> {
  return { ...(t.asns ? { asns: t.asns } : {}), ...(t.ipv4 === false ? { ipv4: false } : {}), ...(t.ipv6 === false ? { ipv6: false } : {}) };
}

/** May be shared by many requests (Prepared.kept): read it, never change it. */
export interface TargetChoice {
  selection: Selection;
  /** The targets in preference order, as configured (kind, health path...). */
  ranked: TargetSpec[];
}

/** What one choice is made from: the file, the health view, the client's request, the mirror catalog view. */
export interface ChoiceInput {
  path: string;
  health: Record<string, HealthRecord>;
  /** Read for request.cf and CF-Connecting-IP. */
  req: Request;
  catalog: Catalog;
}

/**
 * Health (from the registry view) and address family filtered apart, then the configured
 * strategy ranks. The client is read from request.cf and CF-Connecting-IP.
 */
export function chooseTargets(env: object, config: BaseConfig, input: ChoiceInput): TargetChoice {
  const p = prepared(env, config, input.catalog);
  if (!p.strategy.byPathAlone || p.familyMatters) return rank(p, input);
  const kept = p.kept;
  if (kept.health !== input.health) {
    kept.health = input.health;
    kept.byPath.clear();
  }
  const known = kept.byPath.get(input.path);
  if (known) return known;
  const choice = rank(p, input);
  if (kept.byPath.size >= MAX_KEPT_CHOICES) kept.byPath.delete(kept.byPath.keys().next().value!);
  kept.byPath.set(input.path, choice);
  return choice;
}

function rank(p: Prepared, { path, health, req }: ChoiceInput): TargetChoice {
  const stateOf = (id: string): TargetState => {
    const h = health[id];
    if (!h) return { healthy: true };
    const s: TargetState = { healthy: h.healthy, reason: h.reason, reportedAt: h.checkedAt };
    if (h.load !== undefined) s.load = h.load;
    return s;
  };
  const cf = req.cf as IncomingRequestCfProperties | undefined;
  const client: ClientInfo = {};
  const lat = Number(cf?.latitude);
  const lon = Number(cf?.longitude);
  if (cf?.latitude !== undefined && Number.isFinite(lat) && Number.isFinite(lon)) Object.assign(client, { lat, lon });
  if (typeof cf?.country === "string") client.country = cf.country;
  if (typeof cf?.continent === "string") client.continent = cf.continent;
  const asn = cf?.asn;
  if (typeof asn === "number" && Number.isInteger(asn) && asn > 0) client.asn = asn;
  if (p.familyMatters) {
    const family = clientFamily(req.headers);
    if (family) client.family = family;
  }
  const selection = select(p.strategy, p.targets, stateOf, { path, client, random: Math.random, sequence: p.sequence.n++, now: Date.now() });
  return { selection, ranked: selection.ranked.map((t) => p.specs.get(t.id)!).filter(Boolean) };
}

/**
 * Issue #14: a mirror stays in the choice (Location, Link, X-Mirrored-By, .meta4) only
 * while its copy of this version of the file is known current; our nodes are current by
 * construction. Unknown verdicts are fetched in the background (mirrors/view.ts).
 */
export function withCurrentMirrors(choice: TargetChoice, { env, config, path, info, ctx, catalog, now }: { env: Env; config: BaseConfig; path: string; info: ObjectInfo; ctx: ExecutionContext; catalog: Catalog; now?: number }): TargetChoice {
  const mirrors = choice.ranked.filter((t) => t.kind === "mirror");
  if (mirrors.length === 0) return choice;
  // Mirrors the lag policy disabled are out for every file, even those they hold current
  // (the catalog view carries that state: no second view of the object on this path).
  const disabled = new Map(catalog.mirrors.flatMap((m) => (m.lagging === undefined ? [] : [[m.spec.id, m.lagging] as const])));
  const verdicts = knownVerdicts(env, (r) => checkCopies(env, r), {
    path,
    origin: { size: info.size, lastModified: info.lastModified, etag: info.etag, sha256: info.sha256 },
    mirrors: mirrors.map((m) => ({ id: m.id, url: m.url, originEtags: m.originEtags ?? false })),
    ...config.mirrorChecks,
  }, ctx, now);
  const keep = choice.ranked.map((t) => t.kind !== "mirror" || (!disabled.has(t.id) && verdicts[t.id]?.verdict === "current"));
  // All kept: the same choice object, so what is kept per choice (base/redirect.ts) stays valid.
  if (keep.every(Boolean)) return choice;
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
