/**
 * The scans' tables in the MirrorInventory's SQLite (beside its `verdicts`):
 *   files        the files clients asked for, with the origin's version last seen
 *   scan_copies  per (mirror, file) outdated or missing: the last scan's verdict and since when
 *   listed       per (mirror, path): the SHA-256 the mirror's checksum list gives
 *   mirror_state per mirror: pass cursor, back-off, list validators, lag, disabled or not
 * All SQL of the scans lives here; scan.ts decides, this file stores.
 */
import type { Lag, MirrorStatus } from "./lag";
import { versionKey, type FileVersion, type Verdict } from "./verdict";

export interface KnownFile {
  path: string;
  origin: FileVersion;
}

export interface MirrorRow extends MirrorStatus {
  mirror: string;
  /** Last path of the pass under way; null = no pass under way. */
  cursor: string | null;
  passStartedAt: number | null;
  passEndedAt: number | null;
  /** A rescan was asked for (admin): the next run starts a full pass now. */
  rescan: boolean;
  errors: number;
  backoffUntil: number;
  lastError: string;
  listEtag: string | null;
  listLastModified: string | null;
  lagFiles: number;
  oldestLagSince: number | null;
  scannedAt: number | null;
}

type Sql = SqlStorage;

export function createScanTables(sql: Sql): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, version TEXT NOT NULL, size INTEGER, last_modified TEXT, etag TEXT, sha256 TEXT, asked_at INTEGER NOT NULL)`);
  sql.exec(`CREATE TABLE IF NOT EXISTS scan_copies (
    mirror TEXT NOT NULL, path TEXT NOT NULL, version TEXT NOT NULL, verdict TEXT NOT NULL, detail TEXT NOT NULL,
    since INTEGER NOT NULL, checked_at INTEGER NOT NULL, PRIMARY KEY (mirror, path))`);
  sql.exec("CREATE TABLE IF NOT EXISTS listed (mirror TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (mirror, path))");
  sql.exec(`CREATE TABLE IF NOT EXISTS mirror_state (
    mirror TEXT PRIMARY KEY, disabled INTEGER NOT NULL DEFAULT 0, reason TEXT NOT NULL DEFAULT '', since INTEGER NOT NULL DEFAULT 0,
    cursor TEXT, pass_started_at INTEGER, pass_ended_at INTEGER, rescan INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0, backoff_until INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
    list_etag TEXT, list_last_modified TEXT, lag_files INTEGER NOT NULL DEFAULT 0, oldest_lag_since INTEGER, scanned_at INTEGER)`);
}

/** A client asked for this version of the file: the scans will check it from now on. */
export function rememberFile(sql: Sql, { path, origin }: KnownFile, now: number): void {
  sql.exec(
    `INSERT INTO files (path, version, size, last_modified, etag, sha256, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (path) DO UPDATE SET version = excluded.version, size = excluded.size, last_modified = excluded.last_modified,
       etag = excluded.etag, sha256 = excluded.sha256, asked_at = excluded.asked_at`,
    path, versionKey(origin), origin.size, origin.lastModified, origin.etag, origin.sha256, now,
  );
}

/** SQL condition (and its arguments) for "path is one this mirror holds": empty prefixes = all. */
function scope(prefixes: string[], column = "path"): { where: string; args: string[] } {
  if (prefixes.length === 0) return { where: "1", args: [] };
  // substr rather than LIKE: a prefix may hold % or _.
  return { where: `(${prefixes.map(() => `substr(${column}, 1, length(?)) = ?`).join(" OR ")})`, args: prefixes.flatMap((p) => [p, p]) };
}

/** The next files of a pass, in path order after `cursor`. */
export function filesAfter(sql: Sql, { cursor, prefixes, limit }: { cursor: string | null; prefixes: string[]; limit: number }): KnownFile[] {
  const s = scope(prefixes);
  const rows = sql
    .exec<{ path: string; size: number | null; last_modified: string | null; etag: string | null; sha256: string | null }>(
      `SELECT path, size, last_modified, etag, sha256 FROM files WHERE path > ? AND ${s.where} ORDER BY path LIMIT ?`,
      cursor ?? "", ...s.args, limit,
    )
    .toArray();
  return rows.map((r) => ({ path: r.path, origin: { size: r.size, lastModified: r.last_modified, etag: r.etag, sha256: r.sha256 } }));
}

/**
 * One scan result. Only outdated and missing copies are kept (the lag): a current copy
 * deletes its row, so the table grows with the lag, not with mirrors x files
 * (docs/scaling.md). `since` stays while the verdict about this version does not change.
 */
export function recordCopy(sql: Sql, { mirror, file, verdict, detail, now }: { mirror: string; file: KnownFile; verdict: Verdict; detail: string; now: number }): void {
  if (verdict !== "outdated" && verdict !== "missing") {
    sql.exec("DELETE FROM scan_copies WHERE mirror = ? AND path = ?", mirror, file.path);
    return;
  }
  sql.exec(
    `INSERT INTO scan_copies (mirror, path, version, verdict, detail, since, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (mirror, path) DO UPDATE SET detail = excluded.detail, checked_at = excluded.checked_at,
       since = CASE WHEN scan_copies.version = excluded.version AND scan_copies.verdict = excluded.verdict THEN scan_copies.since ELSE excluded.since END,
       version = excluded.version, verdict = excluded.verdict`,
    mirror, file.path, versionKey(file.origin), verdict, detail, now, now,
  );
}

/** Outdated or missing copies of the origin's current versions, among the files the mirror is meant to hold. */
export function lagOf(sql: Sql, mirror: string, prefixes: string[]): Lag {
  const s = scope(prefixes, "c.path");
  const row = sql
    .exec<{ n: number; oldest: number | null }>(
      `SELECT COUNT(*) AS n, MIN(c.since) AS oldest FROM scan_copies c JOIN files f ON f.path = c.path AND f.version = c.version
       WHERE c.mirror = ? AND c.verdict IN ('outdated', 'missing') AND ${s.where}`,
      mirror, ...s.args,
    )
    .one();
  return { files: row.n, oldestSince: row.oldest };
}

export function replaceListed(sql: Sql, mirror: string, sha256: Map<string, string>): void {
  sql.exec("DELETE FROM listed WHERE mirror = ?", mirror);
  for (const [path, hex] of sha256) sql.exec("INSERT INTO listed (mirror, path, sha256) VALUES (?, ?, ?)", mirror, path, hex);
}

export function listedSha256(sql: Sql, mirror: string, path: string): string | null {
  return sql.exec<{ sha256: string }>("SELECT sha256 FROM listed WHERE mirror = ? AND path = ?", mirror, path).toArray()[0]?.sha256 ?? null;
}

export function hasListed(sql: Sql, mirror: string): boolean {
  return sql.exec("SELECT 1 FROM listed WHERE mirror = ? LIMIT 1", mirror).toArray().length > 0;
}

type StateRow = {
  mirror: string; disabled: number; reason: string; since: number; cursor: string | null; pass_started_at: number | null; pass_ended_at: number | null;
  rescan: number; errors: number; backoff_until: number; last_error: string; list_etag: string | null; list_last_modified: string | null;
  lag_files: number; oldest_lag_since: number | null; scanned_at: number | null;
};

function fromRow(r: StateRow): MirrorRow {
  return {
    mirror: r.mirror, disabled: r.disabled === 1, reason: r.reason, since: r.since, cursor: r.cursor, passStartedAt: r.pass_started_at,
    passEndedAt: r.pass_ended_at, rescan: r.rescan === 1, errors: r.errors, backoffUntil: r.backoff_until, lastError: r.last_error,
    listEtag: r.list_etag, listLastModified: r.list_last_modified, lagFiles: r.lag_files, oldestLagSince: r.oldest_lag_since, scannedAt: r.scanned_at,
  };
}

export function mirrorRow(sql: Sql, mirror: string): MirrorRow {
  sql.exec("INSERT OR IGNORE INTO mirror_state (mirror) VALUES (?)", mirror);
  return fromRow(sql.exec<StateRow>("SELECT * FROM mirror_state WHERE mirror = ?", mirror).one());
}

export function allMirrorRows(sql: Sql): MirrorRow[] {
  return sql.exec<StateRow>("SELECT * FROM mirror_state ORDER BY mirror").toArray().map(fromRow);
}

export function saveMirrorRow(sql: Sql, r: MirrorRow): void {
  sql.exec(
    `UPDATE mirror_state SET disabled = ?, reason = ?, since = ?, cursor = ?, pass_started_at = ?, pass_ended_at = ?, rescan = ?, errors = ?,
       backoff_until = ?, last_error = ?, list_etag = ?, list_last_modified = ?, lag_files = ?, oldest_lag_since = ?, scanned_at = ? WHERE mirror = ?`,
    r.disabled ? 1 : 0, r.reason, r.since, r.cursor, r.passStartedAt, r.passEndedAt, r.rescan ? 1 : 0, r.errors,
    r.backoffUntil, r.lastError, r.listEtag, r.listLastModified, r.lagFiles, r.oldestLagSince, r.scannedAt, r.mirror,
  );
}
