/**
 * The Cron's scans (issue #14 parts 1 and 2): per mirror, a pass over the files clients
 * asked for (the inventory's `files`), a bounded batch per Cron run with a cursor kept
 * between runs, so one run's subrequests and CPU stay within the Workers limits however
 * many files there are (docs/scaling.md sizes it). Each copy is judged from the mirror's
 * checksum list when it has one and the origin's SHA-256 is known, else by one HEAD
 * (check-copy.ts). Polite: at most `concurrency` HEADs in flight per mirror, a mirror that
 * does not answer is left alone for an exponentially longer time, and lists are fetched
 * conditionally. After each batch the lag policy (lag.ts) decides the mirror's status.
 */
import type { MirrorChecks } from "../config/base-config";
import type { MirrorScans } from "../config/mirror-scans";
import { checkCopy, type MirrorRef } from "./check-copy";
import { fetchChecksumList } from "./fetch-list";
import { nextStatus } from "./lag";
import * as store from "./scan-store";
import type { Judged } from "./verdict";
import { log } from "../platform/log";

export interface ScanMirror extends MirrorRef {
  /** Paths the mirror is meant to hold; empty = everything. */
  prefixes: string[];
  scanUrl?: string;
}

export interface ScanRequest {
  /** The mirrors to scan (today config.mirrors; a runtime catalog may pass its own). */
  mirrors: ScanMirror[];
  scans: MirrorScans;
  checks: MirrorChecks;
}

export interface ScanReport {
  mirror: string;
  /** Copies judged in this run. */
  checked: number;
  /** What happened: "skipped: ..." / "pass continued" / "pass ended". */
  outcome: string;
  disabled: boolean;
  reason: string;
}

/** What the scan needs from the Durable Object: its SQL, and where a judged copy's verdict goes. */
export interface ScanDeps {
  sql: SqlStorage;
  remember: (mirror: ScanMirror, file: store.KnownFile, judged: Judged) => void;
  now: () => number;
}

/** Back-off after a run that could not reach the mirror: 1, 2, 4... minutes, at most this. */
const MAX_BACKOFF_MS = 60 * 60_000;

export async function scanMirrors(deps: ScanDeps, req: ScanRequest): Promise<ScanReport[]> {
  if (req.scans.scanMinutes === 0) return [];
  return Promise.all(req.mirrors.map((m) => scanMirror(deps, req, m)));
}

async function scanMirror(deps: ScanDeps, req: ScanRequest, mirror: ScanMirror): Promise<ScanReport> {
  const row = store.mirrorRow(deps.sql, mirror.id);
  const report = (checked: number, outcome: string): ScanReport => ({ mirror: mirror.id, checked, outcome, disabled: row.disabled, reason: row.reason });
  const now = deps.now();
  if (row.backoffUntil > now) return report(0, `skipped: backing off until ${new Date(row.backoffUntil).toISOString()} (${row.lastError})`);
  if (row.cursor === null) {
    if (!passDue(row, req.scans, now)) return report(0, "skipped: not due");
    Object.assign(row, { cursor: "", passStartedAt: now, rescan: false });
    if (mirror.scanUrl) {
      const failed = await refreshList(deps, { mirror, row, req });
      if (failed) {
        backOff(row, failed, now);
        row.cursor = null;
        store.saveMirrorRow(deps.sql, row);
        return report(0, `skipped: ${failed}`);
      }
    }
  }
  const files = store.filesAfter(deps.sql, { cursor: row.cursor, prefixes: mirror.prefixes, limit: req.scans.batch });
  const useList = mirror.scanUrl !== undefined && store.hasListed(deps.sql, mirror.id);
  const judged = await judgeAll(deps, { mirror, files, useList, req });
  const done = judged.length;
  for (const { file, result } of judged) {
    deps.remember(mirror, file, result);
    store.recordCopy(deps.sql, { mirror: mirror.id, file, verdict: result.verdict, detail: result.detail, now: deps.now() });
  }
  const unreachable = done < files.length;
  if (unreachable) backOff(row, "does not answer", now);
  else Object.assign(row, { errors: 0, lastError: "" });
  if (done > 0) row.cursor = judged[done - 1]!.file.path;
  const ended = !unreachable && files.length < req.scans.batch;
  if (ended) Object.assign(row, { cursor: null, passEndedAt: deps.now() });
  const lag = store.lagOf(deps.sql, mirror.id, mirror.prefixes);
  const status = nextStatus(row, { lag, limits: req.scans, now: deps.now(), passStartedAt: ended ? row.passStartedAt : null });
  if (status.disabled !== row.disabled) log.info(status.disabled ? "mirror.lag-disabled" : "mirror.lag-enabled", { mirror: mirror.id, reason: status.reason });
  Object.assign(row, status, { lagFiles: lag.files, oldestLagSince: lag.oldestSince, scannedAt: deps.now() });
  store.saveMirrorRow(deps.sql, row);
  return report(done, unreachable ? "pass paused: the mirror does not answer" : ended ? "pass ended" : "pass continued");
}

/** A new pass starts when asked for, when the last one ended long enough ago, or to judge a disabled mirror again. */
function passDue(row: store.MirrorRow, scans: MirrorScans, now: number): boolean {
  if (row.rescan || row.passEndedAt === null) return true;
  if (row.disabled && (row.passStartedAt ?? 0) < row.since) return true;
  return now - row.passEndedAt >= scans.scanMinutes * 60_000;
}

function backOff(row: store.MirrorRow, why: string, now: number): void {
  row.errors += 1;
  row.lastError = why;
  row.backoffUntil = now + Math.min(60_000 * 2 ** (row.errors - 1), MAX_BACKOFF_MS);
}

/** The list, fetched conditionally; a failure's reason, or null. */
async function refreshList(deps: ScanDeps, { mirror, row, req }: { mirror: ScanMirror; row: store.MirrorRow; req: ScanRequest }): Promise<string | null> {
  const answer = await fetchChecksumList(mirror.scanUrl!, { etag: row.listEtag, lastModified: row.listLastModified }, { timeoutMs: req.checks.timeoutMs, maxBytes: req.scans.listMaxBytes });
  if (answer.kind === "error") return answer.detail;
  if (answer.kind === "new") {
    store.replaceListed(deps.sql, mirror.id, answer.list.sha256);
    row.listEtag = answer.validators.etag;
    row.listLastModified = answer.validators.lastModified;
    if (answer.list.rejected.length) log.warn("mirror.checksum-lines-rejected", { mirror: mirror.id, rejected: answer.list.rejected });
  }
  return null;
}

/**
 * The files' verdicts in order, `concurrency` HEADs at a time. Stops at the first group
 * where the mirror answered none (down or unreachable): the rest waits for its back-off.
 */
async function judgeAll(deps: ScanDeps, { mirror, files, useList, req }: { mirror: ScanMirror; files: store.KnownFile[]; useList: boolean; req: ScanRequest }): Promise<{ file: store.KnownFile; result: Judged }[]> {
  const out: { file: store.KnownFile; result: Judged }[] = [];
  for (let i = 0; i < files.length; i += req.scans.concurrency) {
    const group = files.slice(i, i + req.scans.concurrency);
    const results = await Promise.all(group.map((file) => (useList && file.origin.sha256 ? fromList(deps, mirror, file) : checkCopy(mirror, file.path, file.origin, req.checks.timeoutMs))));
    // check-copy's words for "no answer at all" (any HTTP answer, even 5xx, is an answer).
    if (results.every((r) => r.verdict === "error" && (r.detail === "cannot connect" || r.detail.startsWith("no answer")))) break;
    group.forEach((file, k) => out.push({ file, result: results[k]! }));
  }
  return out;
}

function fromList(deps: ScanDeps, mirror: ScanMirror, file: store.KnownFile): Judged {
  const listed = store.listedSha256(deps.sql, mirror.id, file.path);
  if (listed === null) return { verdict: "missing", detail: "not in the checksum list" };
  return listed === file.origin.sha256 ? { verdict: "current", detail: "same SHA-256 in the checksum list" } : { verdict: "outdated", detail: "other SHA-256 in the checksum list" };
}
