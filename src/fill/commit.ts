/**
 * The one write that makes a fill's version visible, and what it waits for. A version
 * becomes visible once: when every chunk is stored and its whole-file SHA-256 is known,
 * manifest and pointer are written, one write each, over the pointer the fill began with
 * only (R2Tier.commit). The SHA-256 comes from the filler that fetched every chunk in
 * order or, for a fill completed out of order, from one Worker's read-back of its chunks
 * (the hash pass; joins meanwhile read the chunks as followers); it must match the
 * origin's Repr-Digest or Content-Digest when one was sent (RFC 9530). The back-off of a
 * failing commit and the hash pass's deadline are kept in memory only: after a restart
 * the commit is tried, and the pass asked for, at once.
 */
import type { CounterName } from "../stats/counters";
import type { ChunkedMeta, Manifest } from "../store/layout";
import type { R2Tier } from "../store/r2-tier";
import { log } from "../platform/log";
import { COMPLETE_KEEP_MS } from "./cleanup";
import type { FillPlan } from "./plan";
import type { FillRecord, FillState } from "./record";
import type { Retirements } from "./retire";

/** A failing commit is retried after FILL_STALL_SECONDS, doubling up to this. */
const MAX_COMMIT_PAUSE_MS = 600_000;
/**
 * A whole-file hash pass (an R2 read-back) that has not answered after FILL_STALL_SECONDS
 * plus the file at this pessimistic rate (bytes/ms, 10 MB/s) is asked of the next joiner.
 */
const HASH_BYTES_PER_MS = 10_000;

/** Why the whole file does not check out against the origin's digest, or null. */
export function digestMismatch(s: FillState): string | null {
  return s.sha256 && s.claimedSha256 && s.sha256 !== s.claimedSha256 ? `SHA-256 ${s.sha256} differs from the origin's digest ${s.claimedSha256}` : null;
}

interface CommitDeps {
  r2: R2Tier;
  record: FillRecord;
  retired: Retirements;
  /** The lease length (FILL_STALL_SECONDS, ms): the first retry pause, a hash pass's least time. */
  leaseMs: () => number;
  /** Counts a metrics event of the coordinator (stats/recorder.ts countEvent). */
  count: (name: CounterName) => void;
}

export class FillCommit {
  /** Until when the hash pass last asked for may still answer (0: none asked). */
  private hashUntil = 0;
  /** A commit that threw is retried from this time on (0: none failed). */
  private retryAt = 0;
  private failures = 0;

  constructor(private readonly deps: CommitDeps) {}

  /** When the alarm must wake for a commit retry (0: none pending). */
  get commitRetryAt(): number {
    return this.retryAt;
  }

  /**
   * A pass for the whole-file SHA-256 of a fill completed out of order is due: true for
   * one caller at a time, again for the next one once that pass has had its time (it runs
   * in a Worker's waitUntil and may die with it).
   */
  askForHash(state: FillState | null, plan: FillPlan | null, now: number): boolean {
    if (!state || !plan?.complete || state.complete || state.sha256 || now < this.hashUntil) return false;
    this.hashUntil = now + this.deps.leaseMs() + state.head.length / HASH_BYTES_PER_MS;
    return true;
  }

  /**
   * Every chunk stored and the whole-file SHA-256 known: make the version visible. A
   * commit that throws (R2 unavailable) is retried by the next join, report or alarm,
   * with a growing pause; followers do not wait for it, they read the chunks already.
   * If the pointer moved on while we filled, this version never becomes visible: its
   * chunks go after the grace period (downloads following this fill still read them),
   * and the answer is "superseded", for the coordinator to tell followers and reset.
   */
  async finish(state: FillState | null, plan: FillPlan | null, now: number): Promise<"superseded" | undefined> {
    if (!state || !plan?.complete || state.complete || !state.sha256 || now < this.retryAt) return;
    const { r2, retired } = this.deps;
    const meta: ChunkedMeta = { key: state.key, version: state.version, ...state.head, sha256: state.sha256, storedAt: now, chunkSize: state.chunkSize, fill: state.fill };
    let outcome;
    try {
      outcome = await r2.commit(meta, await this.manifest(state), state.base ?? null);
    } catch (e) {
      this.failures++;
      this.retryAt = now + Math.min(MAX_COMMIT_PAUSE_MS, this.deps.leaseMs() * 2 ** (this.failures - 1));
      log.error("fill.commit-failed", { key: state.key, version: state.version, fill: state.fill, failures: this.failures, willRetry: true, error: String(e) });
      return;
    }
    this.failures = 0;
    this.retryAt = 0;
    if (!outcome.ok) {
      log.info("fill.superseded", { key: state.key, version: state.version, fill: state.fill, current: outcome.current?.version ?? null });
      await retired.add(meta, now + COMPLETE_KEEP_MS);
      return "superseded";
    }
    if (outcome.replaced) await retired.add(outcome.replaced, now + COMPLETE_KEEP_MS);
    state.complete = true;
    state.touched = now;
    await this.deps.record.save(state);
    this.deps.count("offload_fills_completed_total");
    log.info("fill.committed", { key: state.key, version: state.version, fill: state.fill, length: state.head.length, sha256: state.sha256, replaced: outcome.replaced?.version ?? null });
  }

  /** The fill is forgotten: nothing asked for, nothing to retry. */
  clear(): void {
    this.hashUntil = 0;
    this.retryAt = 0;
    this.failures = 0;
  }

  private async manifest(state: FillState): Promise<Manifest> {
    const chunks = await this.deps.record.chunkDigests();
    const { head } = state;
    return { key: state.key, version: state.version, fill: state.fill, length: head.length, chunkSize: state.chunkSize, etag: head.etag, lastModified: head.lastModified, contentType: head.contentType, chunks, sha256: state.sha256 };
  }
}
