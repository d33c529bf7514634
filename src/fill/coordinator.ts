import { DurableObject } from "cloudflare:workers";
import { requireConfig } from "../config/load";
import { chunkCount, chunkKey, type Manifest } from "../store/layout";
import { hex, type OriginHead, type StoredMeta } from "../store/meta";
import { R2Tier } from "../store/r2-tier";
import { FillPlan } from "./plan";
import { encodeEvent, type Abandon, type ChunkReport, type JoinRequest, type JoinResult, type ProgressEvent, type ReportAnswer } from "./protocol";

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
  complete: boolean;
  /** Last join or stored chunk (ms); an incomplete fill quiet for ORPHAN_MS is removed. */
  touched: number;
}

const STATE = "state";
const CHUNK_PREFIX = "s:";
/** An incomplete fill nobody has asked for in this long is deleted, chunks and all. */
const ORPHAN_MS = 24 * 3600_000;
/** A complete fill's record is dropped after this; later joins read the R2 pointer. */
const COMPLETE_KEEP_MS = 3600_000;
const TOUCH_PERSIST_MS = 60_000;
/** Consecutive given-up leases without a stored chunk before followers are told to fail. */
const MAX_FAILURES = 3;

/**
 * One per object version (named key + version): decides which Worker fetches which
 * chunks from the origin and records which chunks exist; it never sees a file byte.
 * Followers get a stream of small progress events and read chunks from R2 themselves,
 * so a crowd in any number of colos costs one origin body and one call each here.
 */
export class FillCoordinator extends DurableObject<Env> {
  private state: FillState | null = null;
  private plan: FillPlan | null = null;
  private failures = 0;
  private loaded = false;
  /** Open progress streams and the chunk window each one's client needs. */
  private readonly subscribers = new Map<WritableStreamDefaultWriter<Uint8Array>, { from: number; to: number }>();

  async join(req: JoinRequest): Promise<JoinResult> {
    return this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const now = Date.now();
      if (this.state?.complete) {
        const meta = await new R2Tier(this.env.STORE).meta(req.key);
        if (meta?.version === req.version && meta.fill === this.state.fill) return { kind: "stored", meta };
        // Purged or replaced since: this version is filled again under a new fill id.
        await this.reset();
      }
      if (!this.state) {
        const meta = await new R2Tier(this.env.STORE).meta(req.key);
        if (meta?.version === req.version) return { kind: "stored", meta };
        this.state = { key: req.key, target: req.target, version: req.version, head: req.head, chunkSize: req.chunkSize, fill: randomId(), sha256: "", claimedSha256: "", complete: false, touched: now };
        this.plan = new FillPlan(chunkCount(req.head.length, req.chunkSize));
      }
      const plan = this.plan!;
      // A crowd joins hundreds of times a second: persist the orphan clock once a minute.
      if (this.state.touched === now || now - this.state.touched > TOUCH_PERSIST_MS) {
        this.state.touched = now;
        await this.ctx.storage.put(STATE, this.state);
      }
      const lease = plan.assign(req.from, req.to, now, this.leaseMs(), randomId());
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const writer = writable.getWriter();
      this.subscribers.set(writer, { from: req.from, to: req.to });
      writer.closed.catch(() => this.subscribers.delete(writer));
      await this.schedule();
      return { kind: "active", fill: this.state.fill, chunkSize: this.state.chunkSize, stored: plan.stored.slice(), lease, progress: readable };
    });
  }

  async report(r: ChunkReport): Promise<ReportAnswer> {
    return this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const { state, plan } = this;
      if (!state || !plan || state.fill !== r.fill || state.complete) return { ok: state?.complete === true && state.fill === r.fill };
      const now = Date.now();
      if (r.claimedSha256 && !state.claimedSha256) state.claimedSha256 = r.claimedSha256;
      if (r.wholeSha256) state.sha256 = r.wholeSha256;
      state.touched = now;
      this.failures = 0;
      const fresh = plan.chunkStored(r.lease, r.index, now, this.leaseMs(), r.end);
      // A finished run may leave gaps (slices stored out of order): they go to a follower now.
      if (!plan.complete && !plan.holds(r.lease)) {
        this.handOut(now);
        await this.schedule();
      }
      if (!fresh) return { ok: true };
      await this.ctx.storage.put({ [CHUNK_PREFIX + r.index]: r.sha256, [STATE]: state });
      if (!plan.complete) {
        this.emit({ t: "chunk", i: r.index });
        await this.schedule();
        return { ok: true };
      }
      // The last chunk is announced only once the whole file checks out (RFC 9530).
      if (state.sha256 && state.claimedSha256 && state.sha256 !== state.claimedSha256) {
        await this.discard(`SHA-256 ${state.sha256} differs from the origin's digest ${state.claimedSha256}`, false);
        return { ok: false };
      }
      await this.commit();
      this.emit({ t: "chunk", i: r.index });
      this.emit({ t: "done" });
      return { ok: true, hashPass: state.sha256 === "" };
    });
  }

  /** The whole-file SHA-256 of a fill completed out of order, computed by a Worker from R2. */
  async hashed(fill: string, sha256: string): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const state = this.state;
      if (!state || state.fill !== fill || !state.complete || state.sha256) return;
      if (state.claimedSha256 && state.claimedSha256 !== sha256) {
        // Already visible: take it down, so the next request refills from the origin.
        await new R2Tier(this.env.STORE).purge(state.key);
        await this.reset();
        return;
      }
      state.sha256 = sha256;
      await this.ctx.storage.put(STATE, state);
      await this.commit();
    });
  }

  async renew(fill: string, lease: string): Promise<boolean> {
    await this.load();
    return this.state?.fill === fill && this.plan !== null && this.plan.renew(lease, Date.now(), this.leaseMs());
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
    await this.load();
    const state = this.state;
    if (!state) return;
    const now = Date.now();
    if (state.complete) {
      if (now - state.touched >= COMPLETE_KEEP_MS) return this.forget();
    } else if (now - state.touched >= ORPHAN_MS) {
      return this.discard("abandoned", false);
    } else if (this.plan?.expire(now)) {
      this.handOut(now);
    }
    await this.schedule();
  }

  private leaseMs(): number {
    return requireConfig(this.env).fillStallSeconds * 1000;
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    const state = await this.ctx.storage.get<FillState>(STATE);
    if (!state) return;
    this.state = state;
    const stored = await this.ctx.storage.list<string>({ prefix: CHUNK_PREFIX });
    this.plan = new FillPlan(chunkCount(state.head.length, state.chunkSize), [...stored.keys()].map((k) => Number(k.slice(CHUNK_PREFIX.length))));
    if (this.plan.complete && !state.complete) await this.commit();
  }

  /** Manifest and pointer: from now on every reader finds the version in R2 directly. */
  private async commit(): Promise<void> {
    const state = this.state!;
    const stored = await this.ctx.storage.list<string>({ prefix: CHUNK_PREFIX });
    const chunks: string[] = [];
    for (const [k, sha] of stored) chunks[Number(k.slice(CHUNK_PREFIX.length))] = sha;
    const { head } = state;
    const meta: StoredMeta = { key: state.key, version: state.version, ...head, sha256: state.sha256, storedAt: Date.now(), chunkSize: state.chunkSize, fill: state.fill };
    const manifest: Manifest = { key: state.key, version: state.version, fill: state.fill, length: head.length, chunkSize: state.chunkSize, etag: head.etag, lastModified: head.lastModified, contentType: head.contentType, chunks, sha256: state.sha256 };
    await new R2Tier(this.env.STORE).commit(meta, manifest);
    state.complete = true;
    state.touched = Date.now();
    await this.ctx.storage.put(STATE, state);
  }

  /** This fill can never complete (or is not wanted): its chunks go, followers are told. */
  private async discard(reason: string, changed: boolean): Promise<void> {
    const state = this.state;
    if (state) {
      const keys: string[] = [];
      for (let i = 0; i < (this.plan?.chunks ?? 0); i++) if (this.plan?.isStored(i)) keys.push(chunkKey(state.key, state.version, state.fill, i));
      await new R2Tier(this.env.STORE).deleteKeys(keys).catch(() => {});
    }
    this.emit({ t: "fail", reason, changed });
    await this.reset();
  }

  private async reset(): Promise<void> {
    for (const w of this.subscribers.keys()) w.close().catch(() => {});
    this.subscribers.clear();
    await this.forget();
  }

  private async forget(): Promise<void> {
    this.state = null;
    this.plan = null;
    this.failures = 0;
    await this.ctx.storage.deleteAll();
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

  private async schedule(): Promise<void> {
    const state = this.state;
    if (!state) return;
    const deadline = state.complete ? state.touched + COMPLETE_KEEP_MS : Math.min(state.touched + ORPHAN_MS, this.plan?.nextExpiry() ?? Infinity);
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > deadline || current < Date.now()) await this.ctx.storage.setAlarm(deadline);
  }
}

function randomId(): string {
  return hex(crypto.getRandomValues(new Uint8Array(8)));
}
