/**
 * This isolate's copy of the purge log (purge-log.ts), for the colo-pointer hit path:
 * read from R2 when older than `maxAgeMs`, so a colo serves a purged copy at most that
 * long after the purge was answered. Not stale-while-revalidate: an idle isolate's copy
 * may be hours old, and the bound must hold for its first request too. Requests do not
 * wait on each other's read (a promise settled by another request's I/O is not safe to
 * await in workerd), so at expiry a few concurrent hits may each read the small log.
 */
import { perIsolate } from "../platform/per-isolate";
import type { Soon } from "../platform/soon";
import { purgedSince, readPurgeLog, type PurgeLog } from "./purge-log";

interface Held {
  log: PurgeLog | null;
  at: number;
}

const heldOf = perIsolate((_env: object): Held => ({ log: null, at: 0 }));

export interface PurgeCheck {
  /** The generation a pointer learnt now is stamped with: the last one this isolate read (0 before any). */
  stamp(): number;
  /** Whether a colo pointer of `key` stamped `stamp` names a purged copy: at once while the held log is fresh (a hit's case). */
  purged(key: string, stamp: number): Soon<boolean>;
}

export function purgeCheck(env: { STORE: R2Bucket }, maxAgeMs: number): PurgeCheck {
  const held = heldOf(env);
  return {
    stamp: () => Math.max(0, held.log?.gen ?? 0),
    purged(key, stamp) {
      const now = Date.now();
      if (held.log && now - held.at < maxAgeMs) return purgedSince(held.log, key, stamp);
      return refreshed(env, held, now).then((log) => (log ? purgedSince(log, key, stamp) : true));
    },
  };
}

/** The log read again from R2 and held (null: unreadable now, so no copy here can be vouched for). */
async function refreshed(env: { STORE: R2Bucket }, held: Held, now: number): Promise<PurgeLog | null> {
  const log = await readPurgeLog(env.STORE).catch(() => null);
  if (!log) return null;
  // Another request may have read a newer log meanwhile; generations only grow
  // (a lost or unreadable log reads as -1 and is taken as it is).
  if (!held.log || log.gen < 0 || log.gen >= held.log.gen) {
    held.log = log;
    held.at = now;
  }
  return held.log;
}
