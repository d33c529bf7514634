/**
 * Selection = eligibility (who may serve this path, from health and content)
 * followed by the strategy's preference order. The result names the chosen
 * target, the full fallback order and every excluded target with its reason,
 * so the caller can log the decision or show it on the admin page.
 */

import { isStrategyName, STRATEGY_NAMES } from "../config/strategy-names";
import { boundedHash, type BoundedHashOptions } from "./bounded-hash";
import { eligible } from "./eligibility";
import { geo, type GeoOptions } from "./geo";
import { hash } from "./hash";
import { leastLoaded } from "./least-loaded";
import { network, type NetworkOptions } from "./network";
import { p2c } from "./p2c";
import { roundRobin } from "./round-robin";
import type { SelectContext, Selection, Strategy, StrategyName, Target, TargetState } from "./types";
import { weighted } from "./weighted";

export interface StrategyOptions {
  boundedHash?: BoundedHashOptions;
  geo?: GeoOptions;
  network?: NetworkOptions;
}

// A mapped type over StrategyName: a name in config/strategy-names.ts without a
// factory here is a compile error.
const FACTORIES: { readonly [K in StrategyName]: (options: StrategyOptions) => Strategy } = {
  "round-robin": () => roundRobin(),
  weighted: () => weighted(),
  hash: () => hash(),
  "bounded-hash": (o) => boundedHash(o.boundedHash),
  "least-loaded": () => leastLoaded(),
  geo: (o) => geo(o.geo),
  p2c: () => p2c(),
  network: (o) => network(o.network),
};

/** Builds a strategy; invalid options throw here, at configuration time, not per request. */
export function strategyByName(name: StrategyName, options: StrategyOptions = {}): Strategy {
  if (!isStrategyName(name)) {
    // Reachable from untyped config (JSON, wrangler vars) despite the type.
    throw new RangeError(`unknown balancing strategy "${String(name)}" (known: ${STRATEGY_NAMES.join(", ")})`);
  }
  return FACTORIES[name](options);
}

export function select(
  strategy: Strategy,
  targets: readonly Target[],
  stateOf: (id: string) => TargetState,
  ctx: SelectContext,
): Selection {
  const { candidates, excluded } = eligible(targets, ctx, stateOf);
  const ranked = strategy.rank(candidates, ctx).map((c) => c.target);
  return { chosen: ranked[0] ?? null, ranked, excluded };
}
