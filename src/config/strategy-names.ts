/**
 * The balancing strategies a configuration may name: BALANCER, FARMS.<farm>.algorithm and
 * PROXY_ROUTES[].balancer. The names are config's vocabulary, so config imports nothing of
 * src/balancers/, which implements one file per name; balancers/select.ts maps every name
 * to its strategy with a mapped type, so a name listed here without one does not compile.
 * Erasable TypeScript (the local stack validates configs from plain Node).
 */
export const STRATEGY_NAMES = ["round-robin", "weighted", "hash", "bounded-hash", "least-loaded", "geo", "p2c", "network"] as const;

export type StrategyName = (typeof STRATEGY_NAMES)[number];

export function isStrategyName(name: unknown): name is StrategyName {
  return (STRATEGY_NAMES as readonly unknown[]).includes(name);
}
