/**
 * The balancer contract: the base worker picks where to redirect a client.
 *
 * Two steps, kept apart on purpose (as in Varnish directors and Mirrorbits):
 * - eligibility (eligibility.ts) drops targets that cannot serve the path or
 *   that health checking marked down, and says why;
 * - a Strategy only orders the remaining candidates by preference.
 * The caller gets the whole preference order, so it can fall back (or list
 * alternatives in a Metalink) without selecting again.
 *
 * Strategies are pure: randomness, time and the round-robin counter come in
 * through SelectContext, so the same inputs always give the same order.
 */
import type { StrategyName } from "../config/strategy-names";

export interface GeoPoint {
  lat: number;
  lon: number;
}

export interface Target {
  id: string;
  url: string;
  /** Relative capacity. <= 0 (or not finite) means "last resort": ranked after every positive weight. */
  weight: number;
  /** Path prefixes this target holds, e.g. ["/iso/"]. An empty list holds nothing. */
  prefixes: readonly string[];
  location?: GeoPoint & { country?: string; continent?: string };
  /** AS numbers the target sits in or serves best (the network strategy puts them first for those clients). */
  asns?: readonly number[];
  /** Address families served; only `false` excludes (eligibility.ts), undeclared is served. */
  ipv4?: boolean;
  ipv6?: boolean;
}

export interface TargetState {
  healthy: boolean;
  reason?: string;
  /** Reported load, >= 0, e.g. active downloads or 0..1. Missing (or invalid) counts as 0. */
  load?: number;
  reportedAt?: number;
}

export interface Candidate {
  target: Target;
  state: TargetState;
}

export interface Excluded {
  target: Target;
  reason: string;
}

/** What the request tells about the client (request.cf and CF-Connecting-IP); all optional. */
export interface ClientInfo {
  lat?: number;
  lon?: number;
  country?: string;
  continent?: string;
  /** request.cf.asn: the autonomous system the client's address is announced from. */
  asn?: number;
  /** Address family of the client's connection (CF-Connecting-IP); IPv4-mapped IPv6 counts as 4. */
  family?: 4 | 6;
}

export interface SelectContext {
  /** Canonical request path, e.g. "/iso/x.iso". */
  path: string;
  /** From request.cf (whose latitude/longitude are strings: the caller parses them). */
  client?: ClientInfo;
  /** Uniform in [0,1), injected. */
  random: () => number;
  /** Caller-provided monotonically increasing counter (round-robin). */
  sequence: number;
  now: number;
}

// The names are configuration's vocabulary (config/strategy-names.ts); each has one file here.
export type { StrategyName };

export interface Strategy {
  readonly name: StrategyName;
  /**
   * The order depends on the candidates (targets and their states) and ctx.path alone,
   * never on the client, random draws, the sequence or the time: the base may then keep
   * one ranking per path while health and the target list stay the same (issue #13).
   */
  readonly byPathAlone: boolean;
  /** Returns a permutation of `candidates` (same objects), most preferred first. Never mutates the input. */
  rank(candidates: readonly Candidate[], ctx: SelectContext): Candidate[];
}

export interface Selection {
  chosen: Target | null;
  /** Preference order; ranked[0] === chosen. */
  ranked: Target[];
  excluded: Excluded[];
}
