/**
 * This isolate's copy of the purge log (purge-log.ts), for the colo-pointer hit path:
 * read from R2 when older than `maxAgeMs`, so a colo serves a purged copy at most that
 * long after the purge was answered. Not stale-while-revalidate: an idle isolate's copy
 * may be hours old, and the bound must hold for its first request too. Requests do not
 * wait on each other's read (a promise settled by another request's I/O is not safe to
 * await in workerd), so at expiry a few concurrent hits may each read the small log.
 */
import { perIsolate } from "../platform/per-isolate";
import { purgedSince, readPurgeLog, type PurgeLog } from "./purge-log";

interface Held {
  log: PurgeLog | null;
  at: number;
}

const heldOf = perIsolate((_env: object): Held => ({ log: null, at: 0 }));

export interface PurgeCheck {
  /** The generation a pointer learnt now is stamped with: the last one this isolate read (0 before any). */
  stamp(): number;
  /** Whether a colo pointer of `key` stamped `stamp` names a purged copy. */
  purged(key: string, stamp: number): Promise<boolean>;
}

export function purgeCheck(env: { STORE: R2Bucket }, maxAgeMs: number): PurgeCheck {
  const held = heldOf(env);
  return {
    stamp: () => Math.max(0, held.log?.gen ?? 0),
    async purged(key, stamp) {
      const now = Date.now();
      if (!held.log || now - held.at >= maxAgeMs) {
        // Unreadable now: no copy here can be vouched for; the caller reads R2 instead.
        const log = await readPurgeLog(env.STORE).catch(() => null);
        if (!log) return true;
        // Another request may have read a newer log meanwhile; generations only grow
        // (a lost or unreadable log reads as -1 and is taken as it is).
        if (!held.log || log.gen < 0 || log.gen >= held.log.gen) {
          held.log = log;
          held.at = now;
        }
      }
      return purgedSince(held.log, key, stamp);
    },
  };
}
