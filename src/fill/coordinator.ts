import { DurableObject } from "cloudflare:workers";
import { fillStallSeconds } from "../config/fill-stall";
import { chunkCount, chunkKey, chunkWindow, type ChunkedMeta, type Manifest } from "../store/layout";
import { hex, sameFill, type OriginHead, type StoredMeta } from "../store/meta";
import { R2Tier } from "../store/r2-tier";
import { FillPlan } from "./plan";
import { encodeEvent, type Abandon, type ChunkReport, type JoinRequest, type JoinResult, type ProgressEvent, type Renewal, type ReportAnswer } from "./protocol";
import { Retirements } from "./retire";
import { countEvent } from "../stats/recorder";
import { log } from "../platform/log";

/** What survives an eviction of the object (the stored set is kept per chunk beside it). */
interface FillState {
  key: string;
  target: string;
  version: string;
  head: OriginHead & { length: number };
  chunkSize: number;
  fill: string;
  sha256: string;
  claimedSha256: string;
  /**
   * R2 etag of the pointer when this fill began, null when there was none: the only
   * pointer its commit may replace. Absent in records written before it existed.
   */
  base?: string | null;
  /** The pointer names this fill: the version is visible. */
  complete: boolean;
  /** Last join or stored chunk (ms); an incomplete fill quiet for ORPHAN_MS is removed. */
  touched: number;
}

const STATE = "state";
const CHUNK_PREFIX = "s:";
/** An incomplete fill nobody has asked for in this long is deleted, chunks and all. */
const ORPHAN_MS = 24 * 3600_000;
/**
 * A complete fill's record is dropped after this; later joins read the R2 pointer. Also
 * how long the bytes of a version replaced by ours stay readable for downloads of it.
 */
const COMPLETE_KEEP_MS = 3600_000;
const TOUCH_PERSIST_MS = 60_000;
/** Consecutive given-up leases without a stored chunk before followers are told to fail. */
const MAX_FAILURES = 3;
/** A failing commit is retried after FILL_STALL_SECONDS, doubling up to this. */
const MAX_COMMIT_PAUSE_MS = 600_000;
/**
 * A whole-file hash pass (an R2 read-back) that has not answered after FILL_STALL_SECONDS
 * plus the file at this pessimistic rate (bytes/ms, 10 MB/s) is asked of the next joiner.
 */
const HASH_BYTES_PER_MS = 10_000;

/**
 * One per object version (named key + version): decides which Worker fetches which
 * chunks from the origin and records which chunks exist; it never sees a file byte.
 * Followers get a stream of small progress events and read chunks from R2 themselves,
 * so a crowd in any number of colos costs one origin body and one call each here.
 *
 * A version becomes visible once: when every chunk is stored and its whole-file SHA-256
 * is known, manifest and pointer are written, one write each, over the pointer the fill
 * began with only (R2Tier.commit). A fill completed out of order waits for one Worker's
 * read-back of its chunks for that hash; joins meanwhile read the chunks as followers.
 */
export class FillCoordinator extends DurableObject<Env> {
  private state: FillState | null = null;
  private plan: FillPlan | null = null;
  private failures = 0;
  private loading: Promise<void> | null = null;
  /** Open progress streams and the chunk window each one's client needs. */
  private readonly subscribers = new Map<WritableStreamDefaultWriter<Uint8Array>, { from: number; to: number }>();
  private readonly r2 = new R2Tier(this.env.STORE);
  private readonly retired = new Retirements(this.ctx.storage, this.r2);
  /** Until when the hash pass last asked for may still answer (0: none asked). */
  private hashUntil = 0;
  /** A commit that threw is retried from this time on (0: none failed). */
  private commitRetryAt = 0;
  private commitFailures = 0;

  async join(req: JoinRequest): Promise<JoinResult> {
    return this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const now = Date.now();
      await this.finish(now);
      if (this.state?.complete) {
        const meta = await this.r2.meta(req.key);
        if (meta && sameFill(meta, { version: req.version, fill: this.state.fill })) return { kind: "stored", meta };
        // Purged or replaced since: this version is filled again under a new fill id.
        await this.reset();
      }
      if (!this.state) {
        // The caller's own read of the pointer (JoinRequest.pointer) spares one R2 read.
        const pointer = req.pointer ? null : await this.r2.pointer(req.key);
        if (pointer?.meta?.version === req.version) return { kind: "stored", meta: pointer.meta };
        const base = req.pointer ? req.pointer.etag : (pointer?.etag ?? null);
        this.state = { key: req.key, target: req.target, version: req.version, head: req.head, chunkSize: req.chunkSize, fill: randomId(), sha256: "", claimedSha256: "", base, complete: false, touched: now };
        this.plan = new FillPlan(chunkCount(req.head.length, req.chunkSize));
        countEvent(this.env, this.ctx, { name: "offload_fills_started_total" });
        log.info("fill.started", { requestId: req.requestId ?? null, worker: req.worker ?? null, key: req.key, version: req.version, fill: this.state.fill, length: req.head.length, chunkSize: req.chunkSize });
      }
      const state = this.state;
      const plan = this.plan!;
      // A crowd joins hundreds of times a second: persist the orphan clock once a minute.
      // Unconfirmed, so the answer (the first byte of a cold file) does not wait for the
      // write: should it fail, the object resets and its fillers' reports are refused
      // (nothing stored yet is lost; the next join starts the fill again).
      if (state.touched === now || now - state.touched > TOUCH_PERSIST_MS) {
        state.touched = now;
        await this.ctx.storage.put(STATE, state, { allowUnconfirmed: true });
      }
      // The caller's bytes in this fill's own chunks, whatever the caller's CHUNK_SIZE.
      const window = chunkWindow(state.head.length, state.chunkSize, req.window);
      const lease = plan.assign(window.from, window.to, now, this.leaseMs(), randomId());
      const hashPass = this.askForHash(now);
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const writer = writable.getWriter();
      // Every chunk is stored: nothing will be announced any more.
      if (plan.complete) writer.close().catch(() => {});
      else {
        this.subscribers.set(writer, window);
        writer.closed.catch(() => this.subscribers.delete(writer));
      }
      await this.schedule(true);
      return { kind: "active", fill: state.fill, chunkSize: state.chunkSize, stored: plan.stored.slice(), lease, progress: readable, hashPass };
    });
  }

  async report(r: ChunkReport): Promise<ReportAnswer> {
    return this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const { state, plan } = this;
      if (!state || !plan || state.fill !== r.fill) return this.stray(r);
      const now = Date.now();
      if (plan.complete) {
        // A second copy of a chunk (its first holder was slow): the commit may be due again.
        await this.finish(now);
        await this.schedule();
        return { ok: true, held: false };
      }
      if (r.claimedSha256 && !state.claimedSha256) state.claimedSha256 = r.claimedSha256;
      if (r.wholeSha256) state.sha256 = r.wholeSha256;
      state.touched = now;
      this.failures = 0;
      const fresh = plan.chunkStored(r.lease, r.index, now, this.leaseMs(), r.end);
      const held = plan.holds(r.lease);
      // A finished run may leave gaps (slices stored out of order), and a lease taken back
      // from a silent holder has chunks to give: they go to a follower now.
      if (!plan.complete && !held) {
        this.handOut(now);
        await this.schedule();
      }
      if (!fresh) return { ok: true, held };
      await this.ctx.storage.put({ [CHUNK_PREFIX + r.index]: r.sha256, [STATE]: state });
      if (!plan.complete) {
        this.emit({ t: "chunk", i: r.index });
        await this.schedule();
        return { ok: true, held };
      }
      // The last chunk is announced only once the whole file checks out (RFC 9530).
      const wrong = this.digestMismatch();
      if (wrong) {
        await this.discard(wrong, false);
        return { ok: false, held: false };
      }
      // Visible before the last chunk is announced, so a client that finished finds the
      // pointer; but followers are told even when the commit failed (it is retried later).
      await this.finish(now);
      this.emit({ t: "chunk", i: r.index });
      this.emit({ t: "done" });
      const hashPass = this.askForHash(now);
      await this.schedule();
      return { ok: true, held: false, hashPass };
    });
  }

  /**
   * The whole-file SHA-256 of a fill completed out of order, read back from R2 by a
   * Worker; null when a chunk was missing there (the fill cannot complete). Only for a
   * fill still waiting for it: a late pass never touches a committed, replaced or purged
   * version.
   */
  async hashed(fill: string, sha256: string | null): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const { state, plan } = this;
      if (!state || !plan || state.fill !== fill || !plan.complete || state.complete || state.sha256) return;
      if (sha256 === null) return this.discard("a stored chunk is missing from R2", false);
      if (!/^[0-9a-f]{64}$/.test(sha256)) return;
      state.sha256 = sha256;
      const wrong = this.digestMismatch();
      if (wrong) return this.discard(wrong, false);
      await this.ctx.storage.put(STATE, state);
      await this.finish(Date.now());
      await this.schedule();
    });
  }

  /** True while the lease is the caller's (then renewed); false tells its holder to stop. */
  async renew(r: Renewal): Promise<boolean> {
    await this.load();
    const { state, plan } = this;
    return state !== null && plan !== null && state.fill === r.fill && !state.complete && plan.renew(r.lease, Date.now(), this.leaseMs(), r.next, r.end);
  }

  async abandon(a: Abandon): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      if (!this.state || !this.plan || this.state.fill !== a.fill || this.state.complete) return;
      this.plan.release(a.lease);
      if (a.changed) return this.discard(a.reason, true);
      if (++this.failures >= MAX_FAILURES) {
        this.failures = 0;
        this.emit({ t: "fail", reason: a.reason, changed: false });
        return;
      }
      this.handOut(Date.now());
      await this.schedule();
    });
  }

  override async alarm(): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const now = Date.now();
      await this.retired.sweep(now);
      const { state, plan } = this;
      if (state?.complete) {
        if (now - state.touched >= COMPLETE_KEEP_MS) await this.forget();
      } else if (state && plan) {
        if (now - state.touched >= ORPHAN_MS) await this.discard("abandoned", false);
        else if (plan.complete) await this.finish(now);
        else if (plan.expire(now)) this.handOut(now);
      }
      await this.schedule();
    });
  }

  private leaseMs(): number {
    return fillStallSeconds(this.env as unknown as Record<string, unknown>) * 1000;
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      await this.retired.load();
      const state = await this.ctx.storage.get<FillState>(STATE);
      if (!state) return;
      // A fill recorded before commits were guarded: it replaces whatever is visible now.
      if (state.base === undefined) state.base = (await this.r2.pointer(state.key))?.etag ?? null;
      this.state = state;
      const stored = await this.ctx.storage.list<string>({ prefix: CHUNK_PREFIX });
      this.plan = new FillPlan(chunkCount(state.head.length, state.chunkSize), [...stored.keys()].map((k) => Number(k.slice(CHUNK_PREFIX.length))));
    })();
    return this.loading;
  }

  /** Why the whole file does not check out against the origin's digest, or null. */
  private digestMismatch(): string | null {
    const s = this.state!;
    return s.sha256 && s.claimedSha256 && s.sha256 !== s.claimedSha256 ? `SHA-256 ${s.sha256} differs from the origin's digest ${s.claimedSha256}` : null;
  }

  /**
   * A pass for the whole-file SHA-256 of a fill completed out of order is due: true for
   * one caller at a time, again for the next one once that pass has had its time (it runs
   * in a Worker's waitUntil and may die with it).
   */
  private askForHash(now: number): boolean {
    const { state, plan } = this;
    if (!state || !plan?.complete || state.complete || state.sha256 || now < this.hashUntil) return false;
    this.hashUntil = now + this.leaseMs() + state.head.length / HASH_BYTES_PER_MS;
    return true;
  }

  /**
   * Every chunk stored and the whole-file SHA-256 known: make the version visible. A
   * commit that throws (R2 unavailable) is retried by the next join, report or alarm,
   * with a growing pause; followers do not wait for it, they read the chunks already.
   * If the pointer moved on while we filled, this version never becomes visible: its
   * chunks go after the grace period (downloads following this fill still read them).
   */
  private async finish(now: number): Promise<void> {
    const { state, plan } = this;
    if (!state || !plan?.complete || state.complete || !state.sha256 || now < this.commitRetryAt) return;
    const meta: ChunkedMeta = { key: state.key, version: state.version, ...state.head, sha256: state.sha256, storedAt: now, chunkSize: state.chunkSize, fill: state.fill };
    let outcome;
    try {
      outcome = await this.r2.commit(meta, await this.manifest(state), state.base ?? null);
    } catch (e) {
      this.commitFailures++;
      this.commitRetryAt = now + Math.min(MAX_COMMIT_PAUSE_MS, this.leaseMs() * 2 ** (this.commitFailures - 1));
      log.error("fill.commit-failed", { key: state.key, version: state.version, fill: state.fill, failures: this.commitFailures, willRetry: true, error: String(e) });
      return;
    }
    this.commitFailures = 0;
    this.commitRetryAt = 0;
    if (!outcome.ok) {
      log.info("fill.superseded", { key: state.key, version: state.version, fill: state.fill, current: outcome.current?.version ?? null });
      await this.retired.add(meta, now + COMPLETE_KEEP_MS);
      // Its followers still get their bytes: every chunk exists until the retirement.
      this.emit({ t: "done" });
      countEvent(this.env, this.ctx, { name: "offload_fills_failed_total" });
      return this.reset();
    }
    if (outcome.replaced) await this.retired.add(outcome.replaced, now + COMPLETE_KEEP_MS);
    state.complete = true;
    state.touched = now;
    await this.ctx.storage.put(STATE, state);
    countEvent(this.env, this.ctx, { name: "offload_fills_completed_total" });
    log.info("fill.committed", { key: state.key, version: state.version, fill: state.fill, length: state.head.length, sha256: state.sha256, replaced: outcome.replaced?.version ?? null });
  }

  private async manifest(state: FillState): Promise<Manifest> {
    const stored = await this.ctx.storage.list<string>({ prefix: CHUNK_PREFIX });
    const chunks: string[] = [];
    for (const [k, sha] of stored) chunks[Number(k.slice(CHUNK_PREFIX.length))] = sha;
    const { head } = state;
    return { key: state.key, version: state.version, fill: state.fill, length: head.length, chunkSize: state.chunkSize, etag: head.etag, lastModified: head.lastModified, contentType: head.contentType, chunks, sha256: state.sha256 };
  }

  /**
   * A chunk of a fill this object does not run (any more): refused, so its writer deletes
   * it, unless the R2 pointer names that fill (a committed version whose record was
   * forgotten: its chunk names are in use).
   */
  private async stray(r: ChunkReport): Promise<ReportAnswer> {
    const meta = await this.r2.meta(this.state?.key ?? r.key);
    return { ok: meta?.fill === r.fill, held: false };
  }

  /** This fill can never complete (or is not wanted): its chunks go, followers are told. */
  private async discard(reason: string, changed: boolean): Promise<void> {
    const state = this.state;
    if (state) {
      log.warn("fill.failed", { key: state.key, version: state.version, fill: state.fill, reason, changed });
      const keys: string[] = [];
      for (let i = 0; i < (this.plan?.chunks ?? 0); i++) if (this.plan?.isStored(i)) keys.push(chunkKey(state.key, state.version, state.fill, i));
      await this.r2.deleteKeys(keys).catch(() => {});
    }
    this.emit({ t: "fail", reason, changed });
    if (state) countEvent(this.env, this.ctx, { name: "offload_fills_failed_total" });
    await this.reset();
  }

  private async reset(): Promise<void> {
    for (const w of this.subscribers.keys()) w.close().catch(() => {});
    this.subscribers.clear();
    await this.forget();
  }

  /** Drops the fill's record; versions waiting for deletion stay listed. */
  private async forget(): Promise<void> {
    this.state = null;
    this.plan = null;
    this.failures = 0;
    this.hashUntil = 0;
    this.commitRetryAt = 0;
    this.commitFailures = 0;
    await this.ctx.storage.deleteAll();
    await this.retired.restore();
  }

  /**
   * Chunks nobody stores or fetches go to waiting clients whose window needs them, one
   * lease each, told on their own stream only: a dead filler costs one message, not a
   * re-join of the whole crowd. The chosen one moves to the back, so a subscriber that
   * died without a word is not picked again before the others.
   */
  private handOut(now: number): void {
    const plan = this.plan;
    if (!plan) return;
    for (const [writer, window] of [...this.subscribers]) {
      const lease = plan.assign(window.from, window.to, now, this.leaseMs(), randomId());
      if (!lease) continue;
      this.subscribers.delete(writer);
      this.subscribers.set(writer, window);
      writer.write(encodeEvent({ t: "lease", lease })).catch(() => this.subscribers.delete(writer));
    }
  }

  private emit(e: ProgressEvent): void {
    const bytes = encodeEvent(e);
    for (const w of this.subscribers.keys()) w.write(bytes).catch(() => this.subscribers.delete(w));
    if (e.t === "done" || e.t === "fail") {
      for (const w of this.subscribers.keys()) w.close().catch(() => {});
      this.subscribers.clear();
    }
  }

  /**
   * The alarm wakes for the earliest of: lease expiry, orphan or keep deadline, a commit
   * retry, and deletions of replaced versions. A hash pass that goes silent is not the
   * alarm's: it has nobody to ask, the next join takes it over.
   */
  /** `unconfirmed`: the caller's answer need not wait for the alarm write (see join). */
  private async schedule(unconfirmed = false): Promise<void> {
    const { state, plan } = this;
    const deadlines = [this.retired.next()];
    if (state?.complete) deadlines.push(state.touched + COMPLETE_KEEP_MS);
    else if (state && plan) {
      deadlines.push(state.touched + ORPHAN_MS, plan.nextExpiry());
      if (plan.complete && state.sha256) deadlines.push(this.commitRetryAt);
    }
    const due = deadlines.filter((d): d is number => d !== null);
    if (due.length === 0) return;
    const deadline = Math.min(...due);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > deadline || current < Date.now()) await this.ctx.storage.setAlarm(deadline, { allowUnconfirmed: unconfirmed });
  }
}

function randomId(): string {
  return hex(crypto.getRandomValues(new Uint8Array(8)));
}
