/**
 * The OffloadStats object's breakdown tables (issue #15 part 1): bytes and downloads per
 * minute by writer, country and Cache-Status class, and the download ids of the last
 * window that make an accelerator's many connections and ranges one download. Plain SQL
 * over the object's storage, called inside its write transaction.
 */
import type { BreakdownRow, Breakdowns, MinuteBucket } from "./types";
import { MINUTE_MS } from "./validate-batch";

/** One download per (client, object version) within this window (counted from its first answer). */
const DOWNLOAD_WINDOW_MS = 60 * MINUTE_MS;
/**
 * Download ids kept at most: past this, the oldest go first, so a repeat after them counts
 * again. Bounds the object's storage under a flood of distinct clients (~60 bytes a row).
 * @internal exported for the test that proves the bound with a small one.
 */
export const MAX_DOWNLOAD_IDS = 200_000;

export const BREAKDOWN_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS breakdown_minutes (
    minute INTEGER NOT NULL, dimension TEXT NOT NULL, key TEXT NOT NULL,
    bytes INTEGER NOT NULL, copy_bytes INTEGER NOT NULL, downloads INTEGER NOT NULL,
    PRIMARY KEY (minute, dimension, key))`,
  // `seen`: the minute of the id's counted (first) answer; ids are keyed hashes (download-id.ts).
  // A rowid table (not WITHOUT ROWID): pruneBreakdowns bounds it by rowid.
  `CREATE TABLE IF NOT EXISTS download_ids (id TEXT PRIMARY KEY, seen INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS download_ids_seen ON download_ids (seen)`,
  // The salt of the download ids' HMAC: generated once, never leaves the deployment's writers.
  `CREATE TABLE IF NOT EXISTS download_salt (one INTEGER PRIMARY KEY CHECK (one = 1), salt BLOB NOT NULL)`,
];

const ADD = `INSERT INTO breakdown_minutes VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (minute, dimension, key) DO UPDATE SET
  bytes = bytes + excluded.bytes, copy_bytes = copy_bytes + excluded.copy_bytes, downloads = downloads + excluded.downloads`;

const SELECT = `SELECT dimension, key, sum(bytes) AS bytes, sum(copy_bytes) AS copyBytes, sum(downloads) AS downloads
  FROM breakdown_minutes WHERE minute BETWEEN ? AND ? GROUP BY dimension, key`;

/**
 * Adds one bucket's breakdown bytes, and the downloads its ids start (ids already seen
 * within the window do not); returns how many downloads it started.
 */
export function addBucketBreakdowns(sql: SqlStorage, b: MinuteBucket): number {
  let started = 0;
  for (const c of b.breakdowns ?? []) sql.exec(ADD, b.minute, c.dimension, c.key, c.bytes, c.copyBytes, 0);
  for (const d of b.downloads ?? []) {
    const seen = sql.exec<{ seen: number }>("SELECT seen FROM download_ids WHERE id = ?", d.id).toArray()[0]?.seen;
    if (seen !== undefined && Math.abs(b.minute - seen) < DOWNLOAD_WINDOW_MS) continue;
    // A new row, new rowid, also for an id counted again after its window: it is new again.
    sql.exec("DELETE FROM download_ids WHERE id = ?", d.id);
    sql.exec("INSERT INTO download_ids VALUES (?, ?)", d.id, b.minute);
    // Counted where this first answer fell: its writer, its client's country, its class.
    for (const [dimension, key] of [["node", d.node], ["country", d.country], ["class", d.class]]) sql.exec(ADD, b.minute, dimension, key, 0, 0, 1);
    started += 1;
  }
  return started;
}

/**
 * Drops breakdown minutes before `cutoff`, download ids past the window, and the oldest
 * ids over `maxIds` (MAX_DOWNLOAD_IDS; a test proves the bound with a small one).
 */
export function pruneBreakdowns(sql: SqlStorage, { now, cutoff, maxIds = MAX_DOWNLOAD_IDS }: { now: number; cutoff: number; maxIds?: number }): void {
  sql.exec("DELETE FROM breakdown_minutes WHERE minute < ?", cutoff);
  sql.exec("DELETE FROM download_ids WHERE seen <= ?", now - DOWNLOAD_WINDOW_MS);
  // By rowid, which grows with each new id: the ids inserted before the last MAX_DOWNLOAD_IDS
  // go (first in, first out), found through the table's own b-tree in O(log n), where a
  // count or an OFFSET would walk every row on every write.
  sql.exec("DELETE FROM download_ids WHERE rowid <= (SELECT max(rowid) FROM download_ids) - ?", maxIds);
}

/** The salt, made on first use (32 random bytes). */
export function downloadSalt(sql: SqlStorage): ArrayBuffer {
  const kept = sql.exec<{ salt: ArrayBuffer }>("SELECT salt FROM download_salt").toArray()[0];
  if (kept) return kept.salt;
  const salt = crypto.getRandomValues(new Uint8Array(32)).buffer;
  sql.exec("INSERT INTO download_salt VALUES (1, ?)", salt);
  return salt;
}

type Row = BreakdownRow & { dimension: string } & Record<string, SqlStorageValue>;

/** Per node, country and class over [first, last] (minute starts), most bytes first; mirrors are the caller's. */
export function selectBreakdowns(sql: SqlStorage, first: number, last: number, mirrors: BreakdownRow[]): { breakdowns: Breakdowns; downloads: number } {
  const rows = sql.exec<Row>(SELECT, first, last).toArray();
  const of = (dimension: string) => byBytes(rows.filter((r) => r.dimension === dimension).map(({ key, bytes, copyBytes, downloads }) => ({ key, bytes, copyBytes, downloads })));
  const nodes = of("node");
  // Every counted download has exactly one node row: their sum is the window's downloads.
  const downloads = nodes.reduce((n, r) => n + r.downloads, 0);
  return { breakdowns: { nodes, mirrors: byBytes(mirrors), countries: of("country"), classes: of("class") }, downloads };
}

/** Most bytes first, ties by key. */
function byBytes(rows: BreakdownRow[]): BreakdownRow[] {
  return rows.sort((a, b) => b.bytes - a.bytes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
