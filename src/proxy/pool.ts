/**
 * A route's backend pool: the shared balancers rank the backends, passive marks
 * (failover.ts) decide which are eligible, and every strategy sees this isolate's
 * requests in flight per backend as its load.
 *
 * "fair" (mod_proxy_core's: fewest requests in flight) is least-loaded over those
 * in-flight counts, ties broken by the path's HRW order. It is not a file in
 * src/balancers: the Strategy contract names its strategies (StrategyName) and
 * least-loaded already is fair once its load is the in-flight count, so a second
 * strategy would only be an alias. The counts are per isolate (a WeakMap keyed by env):
 * what this isolate sends, not what other isolates do — the usual limit of local
 * least-connections, and enough to keep one slow backend from collecting requests.
 */
import { select, strategyByName } from "../balancers/select";
import type { Selection, Strategy, Target } from "../balancers/types";
import type { ProxyBackend, ProxyRoute } from "../config/proxy-config";
import { perIsolate } from "../platform/per-isolate";
import { passiveState } from "./failover";

interface PoolState {
  inFlight: Map<string, number>;
  /** Round-robin position per route (host + prefix). */
  sequence: Map<string, number>;
}

const poolOf = perIsolate((_env: object): PoolState => ({ inFlight: new Map(), sequence: new Map() }));

interface Prepared {
  strategy: Strategy;
  targets: Target[];
  byId: Map<string, ProxyBackend>;
}

// Per route object (built once by the config): the strategy and the balancer's view of the backends.
const prepare = perIsolate(
  (route: ProxyRoute): Prepared => ({
    strategy: strategyByName(route.balancer === "fair" ? "least-loaded" : route.balancer),
    // Every backend holds the whole route: "/" covers any path.
    targets: route.backends.map((b) => ({ id: b.id, url: b.url, weight: b.weight, prefixes: ["/"] })),
    byId: new Map(route.backends.map((b) => [b.id, b])),
  }),
);

export interface PoolChoice {
  selection: Selection;
  /** Eligible backends, most preferred first. */
  ranked: ProxyBackend[];
}

/** Rank the route's backends for `path` (the path, not the query, keeps hash sticky). */
export function rankBackends(env: object, route: ProxyRoute, path: string, now: number, random: () => number = Math.random): PoolChoice {
  const p = prepare(route);
  const pool = poolOf(env);
  const key = `${route.host ?? "*"} ${route.prefix}`;
  // Starts at 0 per isolate: the first request goes to the first backend, then rotates.
  const sequence = pool.sequence.get(key) ?? 0;
  pool.sequence.set(key, sequence + 1);
  const stateOf = (id: string) => {
    const url = p.byId.get(id)!.url;
    return { ...passiveState(env, url, now), load: pool.inFlight.get(url) ?? 0 };
  };
  const selection = select(p.strategy, p.targets, stateOf, { path, random, sequence, now });
  return { selection, ranked: selection.ranked.map((t) => p.byId.get(t.id)!) };
}

/** Count one request in flight to `url`; the returned function ends it (once). */
export function holdInFlight(env: object, url: string): () => void {
  const counts = poolOf(env).inFlight;
  counts.set(url, (counts.get(url) ?? 0) + 1);
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    const n = (counts.get(url) ?? 1) - 1;
    if (n > 0) counts.set(url, n);
    else counts.delete(url);
  };
}

/**
 * Requests this isolate has in flight to each backend URL: lets the tests prove that every
 * count is released when its body ends (the "fair" balancer ranks on these counts).
 * @internal exported for tests (knip --production accepts it for that reason only).
 */
export function inFlight(env: object): ReadonlyMap<string, number> {
  return poolOf(env).inFlight;
}
