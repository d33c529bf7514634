import { DurableObject } from "cloudflare:workers";
import type { TargetSpec } from "../config/targets";
import { addMirror, createCatalogSchema, deleteMirror, editMirror, lastVerdicts, mirrorHistory, noteSeed, readCatalog, readLagStates, rescanMirror, saveLagStates, setEnabled, type Caller, type CatalogResult, type Reset } from "./catalog";
import { checkCopy, type MirrorRef } from "./check-copy";
import { versionKey, type FileVersion, type Judged, type Verdict } from "./verdict";
import { scanMirrors, type ScanMirror, type ScanReport, type ScanRequest } from "./scan";
import { allMirrorRows, createScanTables, mirrorRow, rememberFile, saveMirrorRow, type KnownFile, type MirrorRow } from "./scan-store";
import { log } from "../platform/log";

/** A verdict and until when it stands (ms since the epoch). */
export interface Remembered extends Judged {
  until: number;
}

export interface CheckRequest {
  path: string;
  origin: FileVersion;
  mirrors: MirrorRef[];
  timeoutMs: number;
  verdictSeconds: number;
  recheckSeconds: number;
}

/** The base's binding (spelled out: the node's build, which shares this room's types, has no such binding). */
export type InventoryEnv = { MIRROR_INVENTORY: DurableObjectNamespace<MirrorInventory> };

/** The object holding one mirror's copies: its verdicts, the files asked of it, its scans (docs/scaling.md 2e). */
export function copiesOf(env: InventoryEnv, mirrorId: string): DurableObjectStub<MirrorInventory> {
  return env.MIRROR_INVENTORY.get(env.MIRROR_INVENTORY.idFromName(`copies:${mirrorId}`));
}

/** Expired rows are swept at most this often, in one indexed DELETE. */
const SWEEP_MS = 60_000;

/**
 * The base's per-file mirror inventory: for each (file, mirror), the verdict about the
 * origin's current version and until when it stands. One object per base.
 * Durable Object SQLite rather than D1: both cap storage at 10 GB (per object / per
 * database, developers.cloudflare.com/{durable-objects,d1}/platform/limits), but the object
 * ships as a migration of this worker and runs single-threaded beside its in-memory
 * table of checks in flight, so isolates asking about one file at once cause one HEAD.
 */
export class MirrorInventory extends DurableObject<Env> {
  private readonly inFlight = new Map<string, Promise<Remembered>>();
  private sweptAt = 0;
  /** The scan under way: a Cron run that fires while the last one still runs joins it. */
  private scanning: Promise<ScanReport[]> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS verdicts (
      path TEXT NOT NULL, mirror TEXT NOT NULL, version TEXT NOT NULL,
      verdict TEXT NOT NULL, detail TEXT NOT NULL, checked_at INTEGER NOT NULL, until INTEGER NOT NULL,
      PRIMARY KEY (path, mirror))`);
    ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS verdicts_until ON verdicts (until)");
    createCatalogSchema(ctx.storage.sql);
    createScanTables(ctx.storage.sql);
  }

  // ---- The catalog role (the object named "inventory", catalog-view.ts inventoryOf) ----
  // Thin RPC methods over catalog.ts, where the rules live.

  /** With each mirror's lag-policy state: the redirect path reads both in one view (catalog-view.ts). */
  catalog(seed: TargetSpec[]) {
    noteSeed(this.ctx.storage.sql, seed);
    const catalog = readCatalog(this.ctx.storage.sql, seed);
    const lagging = readLagStates(this.ctx.storage.sql);
    for (const m of catalog.mirrors) {
      const reason = lagging.get(m.spec.id);
      if (reason !== undefined) m.lagging = reason;
    }
    return catalog;
  }
  addMirror(c: Caller, body: Record<string, unknown>, allowPrivate: boolean) {
    const r = addMirror(this.ctx.storage.sql, c, { body, allowPrivate });
    return this.applied(r.ok ? r.value.spec.id : "", r);
  }
  editMirror(c: Caller, id: string, change: { patch: Record<string, unknown>; allowPrivate: boolean }) {
    return this.applied(id, editMirror(this.ctx.storage.sql, c, { id, ...change }));
  }
  /** Enabling also starts a full scan pass (verdicts forgotten: each file is verified again before it goes there). */
  setMirrorEnabled(c: Caller, id: string, enabled: boolean) {
    return this.applied(id, setEnabled(this.ctx.storage.sql, c, { id, enabled }));
  }
  deleteMirror(c: Caller, id: string) {
    return this.applied(id, deleteMirror(this.ctx.storage.sql, c, id));
  }
  /**
   * The admin's "rescan": the mirror's verdicts are forgotten (each file is verified again
   * before it goes there) and its next Cron run starts a full pass, back-off forgotten; a
   * mirror the lag policy disabled comes back only if that pass finds it within the limits.
   */
  async rescan(c: Caller, id: string): Promise<CatalogResult<{ id: string; forgotten: number }>> {
    const r = rescanMirror(this.ctx.storage.sql, c, id);
    if (!r.ok) return r;
    const forgotten = await copiesOf(this.env as unknown as InventoryEnv, id).reset(id, r.reset ?? null);
    return { ok: true, value: { id, forgotten } };
  }
  mirrorHistory(limit: number) {
    return mirrorHistory(this.ctx.storage.sql, limit);
  }
  /** The lag policy's verdicts from the Cron's scan reports (run-scans.ts), for the catalog view. */
  noteScanReports(reports: ScanReport[]): void {
    saveLagStates(this.ctx.storage.sql, reports);
    this.dropSingleObjectCopies();
  }

  /**
   * Before the copies moved to one object per mirror, this object held every mirror's
   * verdicts, files and scan state. They are only a cache of what the mirrors hold (the
   * copies objects learn it again), so the first Cron run after the upgrade drops them.
   */
  private dropSingleObjectCopies(): void {
    const sql = this.ctx.storage.sql;
    if (sql.exec("SELECT 1 FROM catalog_meta WHERE key = 'copies-moved'").toArray().length > 0) return;
    for (const table of ["verdicts", "files", "scan_copies", "listed", "mirror_state"]) sql.exec(`DELETE FROM ${table}`);
    sql.exec("INSERT OR REPLACE INTO catalog_meta (key, value) VALUES ('copies-moved', '1')");
  }

  /** A catalog change done: what it leaves to the mirror's copies object happens before the answer. */
  private async applied<T>(id: string, r: CatalogResult<T> & { reset?: Reset }): Promise<CatalogResult<T>> {
    if (!r.ok) return r;
    if (r.reset) await copiesOf(this.env as unknown as InventoryEnv, id).reset(id, r.reset);
    return { ok: true, value: r.value };
  }

  // ---- The copies role (one object per mirror, "copies:<id>", catalog-view.ts copiesOf) ----

  /** The mirror's latest verdict and latest non-current one (its last error). */
  lastVerdicts(ids: string[]) {
    return lastVerdicts(this.ctx.storage.sql, ids);
  }

  /** Forget the mirror's verdicts (and with "forget-and-pass", start a full pass); how many were forgotten. */
  reset(id: string, reset: Reset): number {
    if (reset === null) return 0;
    const forgotten = this.ctx.storage.sql.exec("DELETE FROM verdicts WHERE mirror = ?", id).rowsWritten;
    if (reset === "forget-and-pass") this.startPass(id);
    return forgotten;
  }

  /** The standing verdicts of `mirrors` for this version of the file; those not known are checked now. */
  async check(req: CheckRequest): Promise<Record<string, Remembered>> {
    const now = Date.now();
    this.sweep(now);
    const version = versionKey(req.origin);
    rememberFile(this.ctx.storage.sql, req, now);
    const rows = this.ctx.storage.sql
      .exec<{ mirror: string; version: string; verdict: string; detail: string; until: number }>("SELECT mirror, version, verdict, detail, until FROM verdicts WHERE path = ?", req.path)
      .toArray();
    const out: Record<string, Remembered> = {};
    const pending: Promise<void>[] = [];
    for (const m of req.mirrors) {
      const row = rows.find((r) => r.mirror === m.id && r.version === version && r.until > now);
      if (row) out[m.id] = { verdict: row.verdict as Verdict, detail: row.detail, until: row.until };
      else pending.push(this.checkOnce(m, req, version).then((r) => void (out[m.id] = r)));
    }
    await Promise.all(pending);
    return out;
  }

  /** One Cron run of the scans (scan.ts): a batch per mirror, then the lag policy. */
  async scan(req: ScanRequest): Promise<ScanReport[]> {
    if (this.scanning) return this.scanning;
    this.scanning = scanMirrors({ sql: this.ctx.storage.sql, remember: (m, f, j) => this.rememberScanned(m, f, j, req), now: Date.now }, req).finally(() => void (this.scanning = null));
    return this.scanning;
  }

  /** The mirror's next Cron run starts a full pass, back-off forgotten. */
  private startPass(mirror: string): void {
    const row = mirrorRow(this.ctx.storage.sql, mirror);
    saveMirrorRow(this.ctx.storage.sql, { ...row, rescan: true, cursor: null, backoffUntil: 0, errors: 0 });
  }

  /** Every scanned mirror's state: disabled or not and why, lag, last scan, last error. */
  async mirrorStates(): Promise<Record<string, MirrorRow>> {
    return Object.fromEntries(allMirrorRows(this.ctx.storage.sql).map((r) => [r.mirror, r]));
  }

  /** A scan's verdict, standing as an on-demand one would (until by MIRROR_VERDICT_SECONDS / MIRROR_RECHECK_SECONDS). */
  private rememberScanned(mirror: ScanMirror, file: KnownFile, judged: Judged, req: ScanRequest): void {
    const checkedAt = Date.now();
    const seconds = judged.verdict === "current" ? req.checks.verdictSeconds : req.checks.recheckSeconds;
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO verdicts (path, mirror, version, verdict, detail, checked_at, until) VALUES (?, ?, ?, ?, ?, ?, ?)",
      file.path, mirror.id, versionKey(file.origin), judged.verdict, judged.detail, checkedAt, checkedAt + seconds * 1000,
    );
  }

  private checkOnce(mirror: MirrorRef, req: CheckRequest, version: string): Promise<Remembered> {
    const key = `${mirror.id}\n${req.path}\n${version}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const run = checkCopy(mirror, req.path, req.origin, req.timeoutMs)
      .then((judged) => {
        const checkedAt = Date.now();
        const seconds = judged.verdict === "current" ? req.verdictSeconds : req.recheckSeconds;
        const r: Remembered = { ...judged, until: checkedAt + seconds * 1000 };
        this.ctx.storage.sql.exec(
          "INSERT OR REPLACE INTO verdicts (path, mirror, version, verdict, detail, checked_at, until) VALUES (?, ?, ?, ?, ?, ?, ?)",
          req.path, mirror.id, version, r.verdict, r.detail, checkedAt, r.until,
        );
        if (r.verdict !== "current") log.info("mirror.copy-not-used", { mirror: mirror.id, path: req.path, verdict: r.verdict, detail: r.detail });
        return r;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, run);
    return run;
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < SWEEP_MS) return;
    this.sweptAt = now;
    this.ctx.storage.sql.exec("DELETE FROM verdicts WHERE until <= ?", now);
  }
}
