/**
 * The purge log: one small JSON object in R2 that every colo reads to learn what was
 * purged since it put its Cache API pointers. R2 is strongly consistent and global, so a
 * purge recorded here is seen by the next read in any colo; the colos' Cache API is not
 * (a delete reaches one colo only), which is why a pointer there carries the log
 * generation it was learnt under and is checked against the log before it is served.
 *
 * A generation is a counter raised by every purge. An entry keeps the last generation
 * that purged its path or prefix; the log keeps the newest MAX_ENTRIES entries and
 * remembers (`floor`) the highest generation it dropped, so a pointer older than the
 * floor is treated as purged: the log can no longer tell, and re-learning a pointer from
 * R2 costs one read, while serving a purged copy is wrong.
 */

export const PURGE_LOG_KEY = "purge-log.json";
/** Entries kept: a read of the log is one small object, and the check per hit a short scan. */
const MAX_ENTRIES = 256;
/** Concurrent purges (two operators) race on the conditional put; each retries this often. */
const WRITE_ATTEMPTS = 8;

export interface PurgeEntry {
  /** The generation of the last purge of `match`. */
  gen: number;
  /** An exact path (its query variants included), or a prefix of paths. */
  match: string;
  prefix: boolean;
}

export interface PurgeLog {
  gen: number;
  floor: number;
  entries: PurgeEntry[];
}

const EMPTY: PurgeLog = { gen: 0, floor: 0, entries: [] };

/**
 * Whether a pointer of `key` learnt under generation `stamp` names a purged copy. The
 * common answer (nothing purged since) costs one comparison.
 */
export function purgedSince(log: PurgeLog, key: string, stamp: number): boolean {
  if (stamp === log.gen) return false;
  // A stamp from the future: the log was lost or is unreadable (gen -1); it cannot vouch.
  if (stamp > log.gen || stamp < log.floor) return true;
  for (const e of log.entries) {
    if (e.gen > stamp && covers(e, key)) return true;
  }
  return false;
}

/** A cache key is the path plus "?query" when the query is keyed: an exact purge takes every query. */
function covers(e: PurgeEntry, key: string): boolean {
  if (e.prefix) return key.startsWith(e.match);
  return key === e.match || key.startsWith(`${e.match}?`);
}

export async function readPurgeLog(bucket: R2Bucket): Promise<PurgeLog> {
  return (await readWithEtag(bucket)).log;
}

/**
 * Records a purge of `match` under a new generation and returns it. Call it after the R2
 * copies are deleted: a colo that learnt a pointer in between was stamped with an older
 * generation and drops it on its next check. Check and write are one conditional put.
 */
export async function recordPurge(bucket: R2Bucket, target: { match: string; prefix: boolean }): Promise<number> {
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const { log, etag } = await readWithEtag(bucket);
    if (log.gen < 0) throw new Error(`purge log: ${PURGE_LOG_KEY} in R2 is unreadable; every colo re-learns its pointers from R2 meanwhile (see README "Purge")`);
    const next = appendEntry(log, target);
    const written = await bucket.put(PURGE_LOG_KEY, JSON.stringify(next), {
      httpMetadata: { contentType: "application/json" },
      onlyIf: etag === null ? { etagDoesNotMatch: "*" } : { etagMatches: etag },
    });
    if (written) return next.gen;
    // R2 takes about one write per second per key: back off before the next attempt.
    await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
  }
  throw new Error(`purge log: ${WRITE_ATTEMPTS} concurrent writers in a row, purge not recorded; retry`);
}

/** The log with `target` purged under gen + 1: one entry per target, the oldest dropped past MAX_ENTRIES. */
function appendEntry(log: PurgeLog, target: { match: string; prefix: boolean }): PurgeLog {
  const gen = log.gen + 1;
  const entries = log.entries.filter((e) => e.match !== target.match || e.prefix !== target.prefix);
  entries.push({ gen, ...target });
  let floor = log.floor;
  while (entries.length > MAX_ENTRIES) floor = Math.max(floor, entries.shift()!.gen);
  return { gen, floor, entries };
}

async function readWithEtag(bucket: R2Bucket): Promise<{ log: PurgeLog; etag: string | null }> {
  const object = await bucket.get(PURGE_LOG_KEY);
  if (!object) return { log: EMPTY, etag: null };
  return { log: parseLog(await object.text()), etag: object.etag };
}

/**
 * An unreadable log (hand-edited, truncated) must not make a colo serve purged copies:
 * it reads as generation -1, below every stamp, so every colo pointer is re-learnt from
 * R2, and purges are refused until the object is repaired.
 */
function parseLog(text: string): PurgeLog {
  try {
    const v = JSON.parse(text) as Partial<PurgeLog>;
    if (typeof v.gen === "number" && typeof v.floor === "number" && Array.isArray(v.entries)) {
      const entries = v.entries.filter((e): e is PurgeEntry => typeof e?.gen === "number" && typeof e.match === "string" && typeof e.prefix === "boolean");
      if (entries.length === v.entries.length) return { gen: v.gen, floor: v.floor, entries };
    }
  } catch {
    // fall through
  }
  return { gen: -1, floor: 0, entries: [] };
}
