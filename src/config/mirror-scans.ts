/**
 * How the Cron scans mirrors (issue #14 parts 1 and 2): how often a full pass over the
 * files the inventory knows starts per mirror, how many of them one Cron run checks, and
 * the lag limits beyond which a mirror is disabled until a rescan finds it within them.
 */
import { integer, type RawVars } from "./fields.ts";

export interface MirrorScans {
  /** A new pass over a mirror's files starts this long after the previous one ended; 0 = no scans. */
  scanMinutes: number;
  /**
   * Files checked per mirror per Cron run (HEADs, or list entries judged without a request).
   * Mirrors x batch is the run's subrequest count: keep it under the plan's limit
   * (developers.cloudflare.com/workers/platform/limits: 50 free, 10,000 paid).
   */
  batch: number;
  /** HEADs in flight per mirror (polite; Workers open at most 6 connections per invocation anyway). */
  concurrency: number;
  /** Largest checksum list read (bytes); a longer one is an error, not a truncated list. */
  listMaxBytes: number;
  /** Files outdated or missing beyond which a mirror is disabled; 0 = no limit. */
  maxLagFiles: number;
  /** Age of its oldest outdated or missing copy beyond which a mirror is disabled; 0 = no limit. */
  maxLagSeconds: number;
}

export const MIRROR_SCAN_VAR_NAMES = [
  "MIRROR_SCAN_MINUTES", "MIRROR_SCAN_BATCH", "MIRROR_SCAN_CONCURRENCY", "MIRROR_SCAN_LIST_MAX_BYTES",
  "MIRROR_MAX_LAG_FILES", "MIRROR_MAX_LAG_SECONDS",
] as const;

export function mirrorScans(vars: RawVars): MirrorScans {
  return {
    scanMinutes: integer(vars, "MIRROR_SCAN_MINUTES", 60, 0, 7 * 24 * 60),
    batch: integer(vars, "MIRROR_SCAN_BATCH", 50, 1, 10_000),
    concurrency: integer(vars, "MIRROR_SCAN_CONCURRENCY", 4, 1, 6),
    listMaxBytes: integer(vars, "MIRROR_SCAN_LIST_MAX_BYTES", 16 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxLagFiles: integer(vars, "MIRROR_MAX_LAG_FILES", 0, 0, 100_000_000),
    maxLagSeconds: integer(vars, "MIRROR_MAX_LAG_SECONDS", 86_400, 0, 365 * 86_400),
  };
}
