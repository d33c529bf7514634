import { DurableObject } from "cloudflare:workers";
import { buildSummary, clampQuery, windowOf, type MinuteRow } from "./summarize";
import { seriesKey, type CounterSample } from "./counters";
import type { MirrorCounts, MirrorTraffic, StatsBatch, StatsQuery, StatsSummary, TopFile } from "./types";
import { HOUR_MS, MINUTE_MS, RETENTION_MINUTES, validateBatch } from "./validate-batch";
import { addBucketBreakdowns, BREAKDOWN_SCHEMA, downloadSalt, pruneBreakdowns, selectBreakdowns } from "./breakdown-store";

/**
 * Files kept per hour, by bytes. Every distinct path a scanner tries would otherwise be
 * a row; a file pushed out loses that hour's counts (an approximate top list, like
 * space-saving counters), which only ever affects the long tail.
 */
export const FILES_PER_HOUR = 500;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS minutes (
    minute INTEGER PRIMARY KEY,
    copy_bytes INTEGER NOT NULL, origin_bytes INTEGER NOT NULL,
    copy_responses INTEGER NOT NULL, origin_responses INTEGER NOT NULL, refusals INTEGER NOT NULL)`,
  // Per hour, not per minute: 60 times fewer rows for a list only shown as a ranking.
  `CREATE TABLE IF NOT EXISTS file_hours (
    hour INTEGER NOT NULL, path TEXT NOT NULL,
    bytes INTEGER NOT NULL, responses INTEGER NOT NULL, copy_bytes INTEGER NOT NULL,
    PRIMARY KEY (hour, path))`,
  // The base's redirects per mirror and minute (issue #14 part 6): a few mirrors, so per minute.
  `CREATE TABLE IF NOT EXISTS mirror_minutes (
    minute INTEGER NOT NULL, mirror TEXT NOT NULL, redirects INTEGER NOT NULL, bytes INTEGER NOT NULL,
    PRIMARY KEY (minute, mirror))`,
  // All-time Prometheus counters (issue #15 part 2): never pruned, since a counter that
  // went down would read as a reset. One row per series; counters.ts bounds how many.
  `CREATE TABLE IF NOT EXISTS counters (
    series TEXT PRIMARY KEY, name TEXT NOT NULL, labels TEXT NOT NULL, value INTEGER NOT NULL)`,
];

const ADD_COUNTER = `INSERT INTO counters VALUES (?, ?, ?, ?) ON CONFLICT (series) DO UPDATE SET value = value + excluded.value`;
const SELECT_COUNTERS = `SELECT name, labels, value FROM counters ORDER BY series`;

const ADD_MIRROR = `INSERT INTO mirror_minutes VALUES (?, ?, ?, ?) ON CONFLICT (minute, mirror) DO UPDATE SET
  redirects = redirects + excluded.redirects, bytes = bytes + excluded.bytes`;

const SELECT_MIRRORS = `SELECT mirror, sum(redirects) AS redirects, sum(bytes) AS bytes
  FROM mirror_minutes WHERE minute BETWEEN ? AND ? GROUP BY mirror ORDER BY mirror`;

const ADD_MINUTE = `INSERT INTO minutes VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (minute) DO UPDATE SET
  copy_bytes = copy_bytes + excluded.copy_bytes, origin_bytes = origin_bytes + excluded.origin_bytes,
  copy_responses = copy_responses + excluded.copy_responses,
  origin_responses = origin_responses + excluded.origin_responses, refusals = refusals + excluded.refusals`;

const ADD_FILE = `INSERT INTO file_hours VALUES (?, ?, ?, ?, ?) ON CONFLICT (hour, path) DO UPDATE SET
  bytes = bytes + excluded.bytes, responses = responses + excluded.responses, copy_bytes = copy_bytes + excluded.copy_bytes`;

const BOUND_FILES = `DELETE FROM file_hours WHERE hour = ?1 AND path NOT IN
  (SELECT path FROM file_hours WHERE hour = ?1 ORDER BY bytes DESC, path LIMIT ?2)`;

const SELECT_MINUTES = `SELECT minute, copy_bytes AS copyBytes, origin_bytes AS originBytes,
  copy_responses AS copyResponses, origin_responses AS originResponses, refusals
  FROM minutes WHERE minute BETWEEN ? AND ? ORDER BY minute`;

const SELECT_TOP = `SELECT path, sum(bytes) AS bytes, sum(responses) AS responses, sum(copy_bytes) AS copyBytes
  FROM file_hours WHERE hour BETWEEN ? AND ? GROUP BY path
  ORDER BY bytes DESC, responses DESC, path LIMIT ?`;

type TopRow = TopFile & Record<string, SqlStorageValue>;

/**
 * Offload totals of the whole deployment: every node and the base flush their per-minute
 * counts here (one object, named "offload-stats"), the admin page reads summaries. One
 * object is enough: writers batch (one call per isolate every STATS_FLUSH_SECONDS), so
 * it sees a few calls per second even with many nodes.
 */
export class OffloadStats extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Synchronous and idempotent: no request can run before the constructor returns.
    for (const statement of [...SCHEMA, ...BREAKDOWN_SCHEMA]) ctx.storage.sql.exec(statement);
  }

  /** Adds a writer's batch; throws (storing nothing) when any field is invalid. */
  async record(batch: StatsBatch): Promise<void> {
    const now = Date.now();
    const valid = validateBatch(batch, now);
    const sql = this.ctx.storage.sql;
    // One transaction: a batch counts entirely or (on any storage error) not at all.
    this.ctx.storage.transactionSync(() => {
      const hours = new Set<number>();
      let downloads = 0;
      for (const b of valid.buckets) {
        sql.exec(ADD_MINUTE, b.minute, b.copyBytes, b.originBytes, b.copyResponses, b.originResponses, b.refusals);
        const hour = b.minute - (b.minute % HOUR_MS);
        for (const f of b.files) sql.exec(ADD_FILE, hour, f.path, f.bytes, f.responses, f.copyBytes);
        for (const m of b.mirrors ?? []) sql.exec(ADD_MIRROR, b.minute, m.mirror, m.redirects, m.bytes);
        downloads += addBucketBreakdowns(sql, b);
        if (b.files.length > 0) hours.add(hour);
      }
      for (const hour of hours) sql.exec(BOUND_FILES, hour, FILES_PER_HOUR);
      for (const c of valid.counters ?? []) sql.exec(ADD_COUNTER, seriesKey(c.name, c.labels), c.name, JSON.stringify(c.labels), c.value);
      // Deduped here, where every writer's ids meet: no writer could count it right.
      if (downloads > 0) sql.exec(ADD_COUNTER, seriesKey("offload_downloads_total", {}), "offload_downloads_total", "{}", downloads);
      // Pruned on write (not by an alarm): no writes means nothing new to prune.
      const cutoff = now - RETENTION_MINUTES * MINUTE_MS;
      sql.exec("DELETE FROM minutes WHERE minute < ?", cutoff);
      sql.exec("DELETE FROM mirror_minutes WHERE minute < ?", cutoff);
      pruneBreakdowns(sql, { now, cutoff });
      // An hour row goes once all of its hour is past the cutoff.
      sql.exec("DELETE FROM file_hours WHERE hour < ?", cutoff - (cutoff % HOUR_MS));
    });
  }

  /**
   * The salt of the download ids' HMAC (download-id.ts), made on first use: writers ask
   * once per isolate, so a client's address never has to leave the writer that saw it.
   */
  async downloadSalt(): Promise<ArrayBuffer> {
    return downloadSalt(this.ctx.storage.sql);
  }

  /** Redirects and bytes per mirror over the last `minutes` minutes (clamped as summaries are), the current one included. */
  async mirrorTraffic(minutes: number): Promise<MirrorTraffic> {
    const { minutes: windowMinutes } = clampQuery({ minutes, top: 1 });
    const { first, last } = windowOf(Date.now(), windowMinutes);
    const mirrors = this.ctx.storage.sql.exec<MirrorCounts & Record<string, SqlStorageValue>>(SELECT_MIRRORS, first, last).toArray();
    return { windowMinutes, mirrors: mirrors.map(({ mirror, redirects, bytes }) => ({ mirror, redirects, bytes })) };
  }

  /** Every counter series with its all-time total: rows bounded by counters.ts (a few dozen in practice). */
  async counters(): Promise<CounterSample[]> {
    const rows = this.ctx.storage.sql.exec<{ name: string; labels: string; value: number }>(SELECT_COUNTERS).toArray();
    return rows.map((r) => ({ name: r.name as CounterSample["name"], labels: JSON.parse(r.labels) as CounterSample["labels"], value: r.value }));
  }

  /** Totals, per-minute series and top files of the last `minutes` minutes (clamped). */
  async summary(q: StatsQuery): Promise<StatsSummary> {
    const { minutes, top } = clampQuery(q);
    const { first, last } = windowOf(Date.now(), minutes);
    const sql = this.ctx.storage.sql;
    const rows = sql.exec<MinuteRow>(SELECT_MINUTES, first, last).toArray();
    const files = sql.exec<TopRow>(SELECT_TOP, first - (first % HOUR_MS), last, top).toArray();
    const topFiles = files.map(({ path, bytes, responses, copyBytes }) => ({ path, bytes, responses, copyBytes }));
    const mirrors = sql.exec<MirrorCounts & Record<string, SqlStorageValue>>(SELECT_MIRRORS, first, last).toArray();
    // Mirrors: what the base asked of them (redirects, file sizes); they report no deliveries back.
    const mirrorRows = mirrors.map((m) => ({ key: m.mirror, bytes: m.bytes, copyBytes: 0, downloads: m.redirects }));
    const { breakdowns, downloads } = selectBreakdowns(sql, first, last, mirrorRows);
    return buildSummary(first, minutes, rows, { top: topFiles, breakdowns, downloads });
  }
}
