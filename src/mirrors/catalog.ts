/**
 * The mirror catalog: which mirrors the base may use, editable at run time, in the
 * MirrorInventory's SQLite beside the verdicts. MIRRORS is the seed: the stored rows are
 * only what the admin changed on top of it (a seed entry edited, disabled or deleted, a
 * mirror added), so a seed entry nobody touched follows MIRRORS from deploy to deploy,
 * while one edited at run time keeps its edit. Every change is a history row (who, what,
 * before, after). Plain functions over the object's SqlStorage: the object (inventory.ts)
 * runs them one at a time, so each is atomic.
 */
import type { TargetSpec } from "../config/targets";
import { checkMirrorInput, patchMirror } from "./mirror-input";
import { log as logLine } from "../platform/log";

export interface CatalogMirror {
  spec: TargetSpec;
  enabled: boolean;
  /** "seed": from MIRRORS (edited at run time when `edited`); "admin": added at run time. */
  source: "seed" | "admin";
  edited: boolean;
  /** Why the lag policy (lag.ts) took it out of the choice; absent while it is within the limits. */
  lagging?: string;
}

export interface Catalog {
  /** Bumped by every stored change: isolates rebuild their balancer targets only when it moves. */
  version: number;
  mirrors: CatalogMirror[];
}

export interface MirrorChange {
  seq: number;
  at: number;
  mirror: string;
  /** "admin (bearer|session|basic)" or "seed". */
  who: string;
  what: string;
  /** JSON of the mirror before and after (null: it did not exist / no longer exists). */
  before: string | null;
  after: string | null;
}

export interface LastVerdict {
  verdict: string;
  detail: string;
  path: string;
  checkedAt: number;
}

export type CatalogResult<T> = { ok: true; value: T } | { ok: false; status: 400 | 404 | 409; reason: string };

/** Who changes the catalog, and the MIRRORS of the deployment asking. */
export interface Caller {
  seed: TargetSpec[];
  who: string;
}

/**
 * What a change leaves to the mirror's own copies object (inventory.ts): its verdicts are
 * forgotten (every file is verified again before it goes there) and, for an enable or a
 * rescan, a full scan pass starts at the next Cron run.
 */
export type Reset = "forget" | "forget-and-pass" | null;
type Changed<T> = CatalogResult<T> & { reset?: Reset };

const HISTORY_KEPT = 1000;

const SCHEMA = [
  // spec NULL: the seed entry's own fields (only enabled/deleted overridden).
  `CREATE TABLE IF NOT EXISTS mirror_rows (
    id TEXT PRIMARY KEY, spec TEXT, enabled INTEGER NOT NULL, deleted INTEGER NOT NULL,
    source TEXT NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS mirror_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, mirror TEXT NOT NULL, who TEXT NOT NULL,
    what TEXT NOT NULL, before TEXT, after TEXT)`,
  "CREATE TABLE IF NOT EXISTS catalog_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  // Every MIRRORS value seen lately: while two versions of the worker run (a gradual
  // deployment), each keeps sending its own; only a value never seen before is history.
  "CREATE TABLE IF NOT EXISTS seen_seeds (seed TEXT PRIMARY KEY, at INTEGER NOT NULL)",
  // The lag policy's state per mirror as the Cron's last scan of it reported (the scans
  // themselves run in each mirror's copies object): read with the catalog.
  "CREATE TABLE IF NOT EXISTS lag_states (mirror TEXT PRIMARY KEY, disabled INTEGER NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL)",
  // A mirror's verdicts by time: its last verdict for the admin, and a rescan's DELETE.
  "CREATE INDEX IF NOT EXISTS verdicts_mirror ON verdicts (mirror, checked_at)",
];

interface Row {
  id: string;
  spec: string | null;
  enabled: number;
  deleted: number;
  source: string;
  [k: string]: SqlStorageValue;
}

/** After the verdicts table exists (inventory.ts creates it first). */
export function createCatalogSchema(sql: SqlStorage): void {
  for (const s of SCHEMA) sql.exec(s);
}

export function readCatalog(sql: SqlStorage, seed: TargetSpec[]): Catalog {
  const rows = new Map(sql.exec<Row>("SELECT id, spec, enabled, deleted, source FROM mirror_rows").toArray().map((r) => [r.id, r]));
  const mirrors: CatalogMirror[] = [];
  const seeded = new Set<string>();
  for (const s of seed) {
    seeded.add(s.id);
    const r = rows.get(s.id);
    if (r?.deleted) continue;
    mirrors.push({ spec: r?.spec ? (JSON.parse(r.spec) as TargetSpec) : s, enabled: r ? r.enabled === 1 : true, source: "seed", edited: Boolean(r?.spec) });
  }
  // Rows of their own: added at run time, or seed entries edited here and since dropped from MIRRORS.
  for (const r of rows.values()) {
    if (seeded.has(r.id) || r.deleted || !r.spec) continue;
    mirrors.push({ spec: JSON.parse(r.spec) as TargetSpec, enabled: r.enabled === 1, source: r.source === "seed" ? "seed" : "admin", edited: r.source === "seed" });
  }
  return { version: Number(meta(sql, "version") ?? 0), mirrors };
}

const SEEDS_KEPT = 20;

/**
 * Notes in the history what a MIRRORS value never seen before brings, compared with the
 * last new one (first use, or a deploy that changed it). Nothing else: the seed itself is
 * never copied into rows. A value seen before costs one indexed read and no write.
 */
export function noteSeed(sql: SqlStorage, seed: TargetSpec[]): void {
  const text = JSON.stringify(seed);
  if (sql.exec("SELECT 1 FROM seen_seeds WHERE seed = ?", text).toArray().length) return;
  sql.exec("INSERT INTO seen_seeds (seed, at) VALUES (?, ?)", text, Date.now());
  sql.exec("DELETE FROM seen_seeds WHERE seed NOT IN (SELECT seed FROM seen_seeds ORDER BY at DESC LIMIT ?)", SEEDS_KEPT);
  const before = meta(sql, "seed");
  const old = new Map((before ? (JSON.parse(before) as TargetSpec[]) : []).map((s) => [s.id, JSON.stringify(s)]));
  for (const s of seed) {
    const now = JSON.stringify(s);
    const was = old.get(s.id) ?? null;
    if (was !== now) log(sql, { mirror: s.id, who: "seed", what: was ? "changed in MIRRORS" : "seeded from MIRRORS", before: was, after: now });
    old.delete(s.id);
  }
  for (const [id, was] of old) log(sql, { mirror: id, who: "seed", what: "removed from MIRRORS", before: was, after: null });
  setMeta(sql, "seed", text);
}

export function addMirror(sql: SqlStorage, c: Caller, input: { body: Record<string, unknown>; allowPrivate: boolean }): Changed<CatalogMirror> {
  const checked = checkMirrorInput(input.body, input.allowPrivate);
  if (!checked.ok) return { ok: false, status: 400, reason: checked.reason };
  const { spec } = checked;
  if (find(sql, c.seed, spec.id)) return { ok: false, status: 409, reason: `id: a mirror "${spec.id}" already exists (edit it instead)` };
  const source = c.seed.some((s) => s.id === spec.id) ? "seed" : "admin";
  upsert(sql, { id: spec.id, spec: JSON.stringify(spec), enabled: 1, deleted: 0, source });
  log(sql, { mirror: spec.id, who: c.who, what: "added", before: null, after: JSON.stringify(spec) });
  // A mirror added again under an old id: what the old one held says nothing about it.
  return { ok: true, value: find(sql, c.seed, spec.id)!, reset: "forget" };
}

export function editMirror(sql: SqlStorage, c: Caller, input: { id: string; patch: Record<string, unknown>; allowPrivate: boolean }): Changed<CatalogMirror> {
  const current = find(sql, c.seed, input.id);
  if (!current) return unknown(input.id);
  const checked = patchMirror(current.spec, input.patch, input.allowPrivate);
  if (!checked.ok) return { ok: false, status: 400, reason: checked.reason };
  const [before, after] = [JSON.stringify(current.spec), JSON.stringify(checked.spec)];
  if (before === after) return { ok: true, value: current };
  upsert(sql, { id: input.id, spec: after, enabled: current.enabled ? 1 : 0, deleted: 0, source: current.source });
  // Another server behind the id: what the old one held says nothing about it.
  log(sql, { mirror: input.id, who: c.who, what: "edited", before, after });
  return { ok: true, value: find(sql, c.seed, input.id)!, reset: checked.spec.url !== current.spec.url ? "forget" : null };
}

/**
 * Enabling also forgets the mirror's verdicts: every file is checked again before the
 * mirror gets it (issue #14: rescanned before it is re-enabled).
 */
export function setEnabled(sql: SqlStorage, c: Caller, input: { id: string; enabled: boolean }): Changed<CatalogMirror> {
  const current = find(sql, c.seed, input.id);
  if (!current) return unknown(input.id);
  if (current.enabled === input.enabled) return { ok: true, value: current };
  upsert(sql, { id: input.id, spec: current.edited || current.source === "admin" ? JSON.stringify(current.spec) : null, enabled: input.enabled ? 1 : 0, deleted: 0, source: current.source });
  log(sql, { mirror: input.id, who: c.who, what: input.enabled ? "enabled (verdicts forgotten: files are checked again)" : "disabled", before: stateText(current.enabled), after: stateText(input.enabled) });
  return { ok: true, value: find(sql, c.seed, input.id)!, reset: input.enabled ? "forget-and-pass" : null };
}

export function deleteMirror(sql: SqlStorage, c: Caller, id: string): Changed<CatalogMirror> {
  const current = find(sql, c.seed, id);
  if (!current) return unknown(id);
  // A seed entry stays deleted across deploys (a tombstone); adding it again revives it.
  if (c.seed.some((s) => s.id === id)) upsert(sql, { id, spec: null, enabled: 0, deleted: 1, source: "seed" });
  else {
    sql.exec("DELETE FROM mirror_rows WHERE id = ?", id);
    bump(sql);
  }
  sql.exec("DELETE FROM lag_states WHERE mirror = ?", id);
  log(sql, { mirror: id, who: c.who, what: "deleted", before: JSON.stringify(current.spec), after: null });
  return { ok: true, value: current, reset: "forget" };
}

/** A rescan forgets the mirror's verdicts, so each file is checked again before its next use, and starts a full pass. */
export function rescanMirror(sql: SqlStorage, c: Caller, id: string): Changed<{ id: string }> {
  if (!find(sql, c.seed, id)) return unknown(id);
  bump(sql);
  log(sql, { mirror: id, who: c.who, what: "rescan: verdicts forgotten, a full scan pass starts", before: null, after: null });
  return { ok: true, value: { id }, reset: "forget-and-pass" };
}

/** Mirror -> why the lag policy disabled it, for the mirrors it has disabled. */
export function readLagStates(sql: SqlStorage): Map<string, string> {
  const rows = sql.exec<{ mirror: string; reason: string }>("SELECT mirror, reason FROM lag_states WHERE disabled = 1").toArray();
  return new Map(rows.map((r) => [r.mirror, r.reason]));
}

/**
 * The Cron's scan reports: each mirror's lag-policy state, as its copies object decided it.
 * Written only when it changed: every mirror reports every minute, and rows written are billed.
 */
export function saveLagStates(sql: SqlStorage, reports: readonly { mirror: string; disabled: boolean; reason: string }[]): void {
  const now = Date.now();
  const stored = new Map(sql.exec<{ mirror: string; disabled: number; reason: string }>("SELECT mirror, disabled, reason FROM lag_states").toArray().map((r) => [r.mirror, r]));
  for (const r of reports) {
    const was = stored.get(r.mirror);
    if (was && was.disabled === (r.disabled ? 1 : 0) && was.reason === r.reason) continue;
    sql.exec("INSERT OR REPLACE INTO lag_states (mirror, disabled, reason, at) VALUES (?, ?, ?, ?)", r.mirror, r.disabled ? 1 : 0, r.reason, now);
  }
}

export function mirrorHistory(sql: SqlStorage, limit: number): MirrorChange[] {
  return sql.exec<MirrorChange & Record<string, SqlStorageValue>>("SELECT seq, at, mirror, who, what, before, after FROM mirror_history ORDER BY seq DESC LIMIT ?", Math.max(1, Math.min(limit, HISTORY_KEPT))).toArray();
}

/** Each mirror's latest verdict and latest non-current one (its last error), by mirror id. */
export function lastVerdicts(sql: SqlStorage, ids: string[]): Record<string, { last: LastVerdict | null; lastProblem: LastVerdict | null }> {
  const q = (where: string) => (id: string) =>
    sql.exec<LastVerdict & Record<string, SqlStorageValue>>(`SELECT verdict, detail, path, checked_at AS checkedAt FROM verdicts WHERE mirror = ? ${where} ORDER BY checked_at DESC LIMIT 1`, id).toArray()[0] ?? null;
  const last = q("");
  const problem = q("AND verdict != 'current'");
  return Object.fromEntries(ids.map((id) => [id, { last: last(id), lastProblem: problem(id) }]));
}

function find(sql: SqlStorage, seed: TargetSpec[], id: string): CatalogMirror | undefined {
  return readCatalog(sql, seed).mirrors.find((m) => m.spec.id === id);
}

const unknown = (id: string): CatalogResult<never> => ({ ok: false, status: 404, reason: `unknown mirror ${JSON.stringify(id)}` });
const stateText = (enabled: boolean) => (enabled ? "enabled" : "disabled");

function upsert(sql: SqlStorage, r: { id: string; spec: string | null; enabled: number; deleted: number; source: string }): void {
  sql.exec("INSERT OR REPLACE INTO mirror_rows (id, spec, enabled, deleted, source, updated_at) VALUES (?, ?, ?, ?, ?, ?)", r.id, r.spec, r.enabled, r.deleted, r.source, Date.now());
  bump(sql);
}

function bump(sql: SqlStorage): void {
  setMeta(sql, "version", String(Number(meta(sql, "version") ?? 0) + 1));
}

function log(sql: SqlStorage, e: Omit<MirrorChange, "seq" | "at">): void {
  sql.exec("INSERT INTO mirror_history (at, mirror, who, what, before, after) VALUES (?, ?, ?, ?, ?, ?)", Date.now(), e.mirror, e.who, e.what, e.before, e.after);
  sql.exec("DELETE FROM mirror_history WHERE seq <= (SELECT max(seq) FROM mirror_history) - ?", HISTORY_KEPT);
  logLine.info("mirror.catalog-change", { ...e });
}

function meta(sql: SqlStorage, key: string): string | undefined {
  return sql.exec<{ value: string }>("SELECT value FROM catalog_meta WHERE key = ?", key).toArray()[0]?.value;
}

function setMeta(sql: SqlStorage, key: string, value: string): void {
  sql.exec("INSERT OR REPLACE INTO catalog_meta (key, value) VALUES (?, ?)", key, value);
}
