// The base's real OffloadStats namespace, and batches with explicit minute timestamps.
import { env } from "cloudflare:workers";
import type { OffloadStats } from "../../../src/stats/offload-stats";
import type { FileCounts, MinuteBucket, StatsBatch } from "../../../src/stats/types";

export const stats = (env as unknown as { STATS: DurableObjectNamespace<OffloadStats> }).STATS;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/** A fresh object per test: tests never see each other's totals. */
export function freshStats(): DurableObjectStub<OffloadStats> {
  return stats.get(stats.idFromName(`test-${crypto.randomUUID()}`));
}

/** The object every writer reports to (recorder tests). */
export function sharedStats(): DurableObjectStub<OffloadStats> {
  return stats.get(stats.idFromName("offload-stats"));
}

/** Start of the minute `minutesAgo` before now (0 = the current minute). */
export function minuteAgo(minutesAgo: number, now = Date.now()): number {
  return now - (now % MINUTE) - minutesAgo * MINUTE;
}

export function bucket(minute: number, counts: Partial<Omit<MinuteBucket, "minute">> = {}): MinuteBucket {
  return { minute, copyBytes: 0, originBytes: 0, copyResponses: 0, originResponses: 0, refusals: 0, files: [], ...counts };
}

export function file(path: string, bytes: number, responses = 1, copyBytes = 0): FileCounts {
  return { path, bytes, responses, copyBytes };
}

export function batch(...buckets: MinuteBucket[]): StatsBatch {
  return { buckets };
}
