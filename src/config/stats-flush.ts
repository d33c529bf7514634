/**
 * STATS_FLUSH_SECONDS, shared by the node and base configs and the stats recorder, so all
 * three accept the same values. Erasable TypeScript with .ts imports (the local stack
 * validates configs from plain Node).
 */
import { integer, type RawVars } from "./fields.ts";

/** Default: a few calls per minute per isolate keep the one stats object far from busy. */
const STATS_FLUSH_DEFAULT = 10;

/** Seconds between a writer's flushes to OffloadStats; 0 = flush after every answer. */
export function statsFlushSeconds(vars: RawVars): number {
  return integer(vars, "STATS_FLUSH_SECONDS", STATS_FLUSH_DEFAULT, 0, 3600);
}
