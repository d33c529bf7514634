import { DurableObject } from "cloudflare:workers";
import type { TargetSpec } from "../config/targets";
import { addMirror, createCatalogSchema, deleteMirror, editMirror, lastVerdicts, mirrorHistory, noteSeed, readCatalog, rescanMirror, setEnabled, type Caller } from "./catalog";
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

  // The mirror catalog (catalog.ts): thin RPC methods, the rules live there.
  catalog(seed: TargetSpec[]) {
    noteSeed(this.ctx.storage.sql, seed);
    return readCatalog(this.ctx.storage.sql, seed);
  }
  addMirror(c: Caller, body: Record<string, unknown>, allowPrivate: boolean) {
    return addMirror(this.ctx.storage.sql, c, { body, allowPrivate });
  }
  editMirror(c: Caller, id: string, change: { patch: Record<string, unknown>; allowPrivate: boolean }) {
    return editMirror(this.ctx.storage.sql, c, { id, ...change });
  }
  /** Enabling also starts a full scan pass (verdicts forgotten: each file is verified again before it goes there). */
  setMirrorEnabled(c: Caller, id: string, enabled: boolean) {
    const r = setEnabled(this.ctx.storage.sql, c, { id, enabled });
    if (r.ok && enabled) this.startPass(id);
    return r;
  }
  deleteMirror(c: Caller, id: string) {
    return deleteMirror(this.ctx.storage.sql, c, id);
  }
  /**
   * The admin's "rescan": the mirror's verdicts are forgotten (each file is verified again
   * before it goes there, catalog.ts) and its next Cron run starts a full pass, back-off
   * forgotten; a mirror the lag policy disabled comes back only if that pass finds it within the limits.
   */
  rescan(c: Caller, id: string) {
    const r = rescanMirror(this.ctx.storage.sql, c, id);
    if (r.ok) this.startPass(id);
    return r;
  }
  mirrorHistory(limit: number) {
    return mirrorHistory(this.ctx.storage.sql, limit);
  }
  lastVerdicts(ids: string[]) {
    return lastVerdicts(this.ctx.storage.sql, ids);
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
