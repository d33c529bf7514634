/**
 * The admin's purges, by exact path or by prefix (a release folder): R2 copies deleted,
 * then the purge recorded in the purge log (purge-log.ts), which every colo checks
 * before serving its Cache API pointer. Bounded per call: a prefix holding more copies
 * than `limit` is purged in several calls (`more`), each one recorded, so a colo that
 * re-learnt a not-yet-deleted copy in between drops it again after the next call.
 */
import { metaKey } from "./layout";
import { recordPurge } from "./purge-log";
import type { Store } from "./store";

/** R2 copies purged per call: each costs a few R2 operations and this colo's cache deletes. */
const PURGE_BATCH = 100;

/** What the admin asked to purge: one exact path, or every path under a prefix. */
export type PurgeTarget = { path: string } | { prefix: string };

export interface PathPurge {
  path: string;
  /** Whether R2 held a copy of the path itself. */
  stored: boolean;
  /** Copies purged: the path and its keyed-query variants. */
  purged: number;
  generation: number;
}

export interface PrefixPurge {
  prefix: string;
  purged: number;
  /** More copies remain under the prefix: call again (each call takes up to PURGE_BATCH). */
  more: boolean;
  generation: number;
}

/**
 * An exact path: its copy, and its query variants (CACHE_KEY_QUERY keys them as
 * "path?query"). Recorded even when R2 held nothing, as colos may still point at a copy
 * an earlier purge or a 404 took out of R2.
 */
export async function purgePath(store: Store, bucket: R2Bucket, path: string): Promise<PathPurge> {
  const previous = await store.purge(path);
  const variants = await bucket.list({ prefix: metaKey(`${path}?`), limit: PURGE_BATCH });
  await purgeKeys(store, variants.objects.map((o) => o.key.slice("meta".length)));
  const generation = await recordPurge(bucket, { match: path, prefix: false });
  return { path, stored: previous !== null, purged: (previous ? 1 : 0) + variants.objects.length, generation };
}

/** Up to PURGE_BATCH copies under `prefix`; null when R2 holds none (nothing is recorded). */
export async function purgePrefix(store: Store, bucket: R2Bucket, prefix: string): Promise<PrefixPurge | null> {
  // Deleted pointers leave the listing (R2 lists are strongly consistent): the next call starts over.
  const listed = await bucket.list({ prefix: metaKey(prefix), limit: PURGE_BATCH });
  if (listed.objects.length === 0) return null;
  await purgeKeys(store, listed.objects.map((o) => o.key.slice("meta".length)));
  const generation = await recordPurge(bucket, { match: prefix, prefix: true });
  return { prefix, purged: listed.objects.length, more: listed.truncated, generation };
}

/**
 * Ten at a time (a Worker's simultaneous connections are limited). This colo's chunk
 * entries are left to expire: without a pointer nothing reaches them (a refill has a new
 * fill id), and deleting them would cost a cache operation per chunk of every copy.
 */
async function purgeKeys(store: Store, keys: string[]): Promise<void> {
  const one = async (key: string) => {
    await store.r2.purge(key);
    await store.cache.purge(key, null);
  };
  for (let i = 0; i < keys.length; i += 10) await Promise.all(keys.slice(i, i + 10).map(one));
}
