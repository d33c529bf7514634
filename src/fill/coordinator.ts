import { DurableObject } from "cloudflare:workers";
import { fillStallSeconds } from "../config/fill-stall";
import type { CounterName } from "../stats/counters";
import { countEvent } from "../stats/recorder";
import { chunkCount, chunkWindow } from "../store/layout";
import { hex, sameFill } from "../store/meta";
import { R2Tier } from "../store/r2-tier";
import { log } from "../platform/log";
import { COMPLETE_KEEP_MS, FillCleanup, ORPHAN_MS } from "./cleanup";
import { digestMismatch, FillCommit } from "./commit";
import { FillPlan, type Lease } from "./plan";
import type { Abandon, ChunkReport, JoinRequest, JoinResult, Renewal, ReportAnswer } from "./protocol";
import { FillRecord, type CurrentFill } from "./record";
import { Retirements } from "./retire";
import { Subscribers } from "./subscribers";

/** Consecutive given-up leases without a stored chunk before followers are told to fail. */
const MAX_FAILURES = 3;

/**
 * One per object version (named key + version): decides which Worker fetches which
 * chunks from the origin and records which chunks exist; it never sees a file byte.
 * Followers get a stream of small progress events and read chunks from R2 themselves,
 * so a crowd in any number of colos costs one origin body and one call each here.
 *
 * This class is the RPC surface; each concept behind it has its own file: what survives
 * an eviction (record.ts), the progress streams (subscribers.ts), the one write that
 * makes the version visible (commit.ts), and what goes when, with the alarm (cleanup.ts).
 */
export class FillCoordinator extends DurableObject<Env> {
  private readonly current: CurrentFill = { state: null, plan: null, failures: 0 };
  private loading: Promise<void> | null = null;
  private readonly count = (name: CounterName) => countEvent(this.env, this.ctx, { name });
  private readonly r2 = new R2Tier(this.env.STORE);
  private readonly record = new FillRecord(this.ctx.storage);
  private readonly retired = new Retirements(this.ctx.storage, this.r2);
  private readonly subscribers = new Subscribers();
  private readonly commit = new FillCommit({ r2: this.r2, record: this.record, retired: this.retired, leaseMs: () => this.leaseMs(), count: this.count });
  private readonly cleanup = new FillCleanup({ current: this.current, storage: this.ctx.storage, r2: this.r2, retired: this.retired, subscribers: this.subscribers, commit: this.commit, count: this.count });

  async join(req: JoinRequest): Promise<JoinResult> {
    return this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const now = Date.now();
      await this.finish(now);
      if (this.current.state?.complete) {
        const meta = await this.r2.meta(req.key);
        if (meta && sameFill(meta, { version: req.version, fill: this.current.state.fill })) return { kind: "stored", meta };
        // Purged or replaced since: this version is filled again under a new fill id.
        await this.cleanup.reset();
      }
      if (!this.current.state) {
        // The caller's own read of the pointer (JoinRequest.pointer) spares one R2 read.
        const pointer = req.pointer ? null : await this.r2.pointer(req.key);
        if (pointer?.meta?.version === req.version) return { kind: "stored", meta: pointer.meta };
        const base = req.pointer ? req.pointer.etag : (pointer?.etag ?? null);
        this.current.state = { key: req.key, target: req.target, version: req.version, head: req.head, chunkSize: req.chunkSize, fill: randomId(), sha256: "", claimedSha256: "", base, complete: false, touched: now };
        this.current.plan = new FillPlan(chunkCount(req.head.length, req.chunkSize));
        this.count("offload_fills_started_total");
        log.info("fill.started", { requestId: req.requestId ?? null, worker: req.worker ?? null, key: req.key, version: req.version, fill: this.current.state.fill, length: req.head.length, chunkSize: req.chunkSize });
      }
      const state = this.current.state;
      const plan = this.current.plan!;
      // The orphan clock, and below the alarm: neither write holds the answer (the first
      // byte of a cold file), see FillRecord.touch.
      await this.record.touch(state, now);
      // The caller's bytes in this fill's own chunks, whatever the caller's CHUNK_SIZE.
      const window = chunkWindow(state.head.length, state.chunkSize, req.window);
      const lease = this.lease(plan, window, now);
      const hashPass = this.commit.askForHash(state, plan, now);
      const progress = this.subscribers.subscribe(window, plan.complete);
      await this.cleanup.schedule(true);
      return { kind: "active", fill: state.fill, chunkSize: state.chunkSize, stored: plan.stored.slice(), lease, progress, hashPass };
    });
  }

  async report(r: ChunkReport): Promise<ReportAnswer> {
    return this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const { state, plan } = this.current;
      if (!state || !plan || state.fill !== r.fill) return this.stray(r);
      const now = Date.now();
      if (plan.complete) {
        // A second copy of a chunk (its first holder was slow): the commit may be due again.
        await this.finish(now);
        await this.cleanup.schedule();
        return { ok: true, held: false };
      }
      if (r.claimedSha256 && !state.claimedSha256) state.claimedSha256 = r.claimedSha256;
      if (r.wholeSha256) state.sha256 = r.wholeSha256;
      state.touched = now;
      this.current.failures = 0;
      const fresh = plan.chunkStored(r.lease, r.index, now, this.leaseMs(), r.end);
      const held = plan.holds(r.lease);
      // A finished run may leave gaps (slices stored out of order), and a lease taken back
      // from a silent holder has chunks to give: they go to a follower now.
      if (!plan.complete && !held) {
        this.handOut(now);
        await this.cleanup.schedule();
      }
      if (!fresh) return { ok: true, held };
      await this.record.chunkStored(state, r.index, r.sha256);
      if (!plan.complete) {
        this.subscribers.emit({ t: "chunk", i: r.index });
        await this.cleanup.schedule();
        return { ok: true, held };
      }
      // The last chunk is announced only once the whole file checks out (RFC 9530).
      const wrong = digestMismatch(state);
      if (wrong) {
        await this.cleanup.discard(wrong, false);
        return { ok: false, held: false };
      }
      // Visible before the last chunk is announced, so a client that finished finds the
      // pointer; but followers are told even when the commit failed (it is retried later).
      await this.finish(now);
      this.subscribers.emit({ t: "chunk", i: r.index });
      this.subscribers.emit({ t: "done" });
      // What the commit left (a superseded fill is reset: nothing to ask for).
      const hashPass = this.commit.askForHash(this.current.state, this.current.plan, now);
      await this.cleanup.schedule();
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
      const { state, plan } = this.current;
      if (!state || !plan || state.fill !== fill || !plan.complete || state.complete || state.sha256) return;
      if (sha256 === null) return this.cleanup.discard("a stored chunk is missing from R2", false);
      if (!/^[0-9a-f]{64}$/.test(sha256)) return;
      state.sha256 = sha256;
      const wrong = digestMismatch(state);
      if (wrong) return this.cleanup.discard(wrong, false);
      await this.record.save(state);
      await this.finish(Date.now());
      await this.cleanup.schedule();
    });
  }

  /** True while the lease is the caller's (then renewed); false tells its holder to stop. */
  async renew(r: Renewal): Promise<boolean> {
    await this.load();
    const { state, plan } = this.current;
    return state !== null && plan !== null && state.fill === r.fill && !state.complete && plan.renew(r.lease, Date.now(), this.leaseMs(), r.next, r.end);
  }

  async abandon(a: Abandon): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const { state, plan } = this.current;
      if (!state || !plan || state.fill !== a.fill || state.complete) return;
      plan.release(a.lease);
      if (a.changed) return this.cleanup.discard(a.reason, true);
      if (++this.current.failures >= MAX_FAILURES) {
        this.current.failures = 0;
        this.subscribers.emit({ t: "fail", reason: a.reason, changed: false });
        return;
      }
      this.handOut(Date.now());
      await this.cleanup.schedule();
    });
  }

  override async alarm(): Promise<void> {
    await this.ctx.blockConcurrencyWhile(async () => {
      await this.load();
      const now = Date.now();
      await this.retired.sweep(now);
      const { state, plan } = this.current;
      if (state?.complete) {
        if (now - state.touched >= COMPLETE_KEEP_MS) await this.cleanup.forget();
      } else if (state && plan) {
        if (now - state.touched >= ORPHAN_MS) await this.cleanup.discard("abandoned", false);
        else if (plan.complete) await this.finish(now);
        else if (plan.expire(now)) this.handOut(now);
      }
      await this.cleanup.schedule();
    });
  }

  private leaseMs(): number {
    return fillStallSeconds(this.env as unknown as Record<string, unknown>) * 1000;
  }

  /** A lease on the chunks of `window` nobody stores or fetches, or null (FillPlan.assign). */
  private lease(plan: FillPlan, window: { from: number; to: number }, now: number): Lease | null {
    return plan.assign(window.from, window.to, now, this.leaseMs(), randomId());
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      await this.retired.load();
      const loaded = await this.record.load(this.r2);
      if (!loaded) return;
      this.current.state = loaded.state;
      this.current.plan = loaded.plan;
    })();
    return this.loading;
  }

  /** The commit, when it is due (commit.ts); a fill superseded meanwhile ends here. */
  private async finish(now: number): Promise<void> {
    if ((await this.commit.finish(this.current.state, this.current.plan, now)) !== "superseded") return;
    // Its followers still get their bytes: every chunk exists until the retirement.
    this.subscribers.emit({ t: "done" });
    this.count("offload_fills_failed_total");
    await this.cleanup.reset();
  }

  /**
   * A chunk of a fill this object does not run (any more): refused, so its writer deletes
   * it, unless the R2 pointer names that fill (a committed version whose record was
   * forgotten: its chunk names are in use).
   */
  private async stray(r: ChunkReport): Promise<ReportAnswer> {
    const meta = await this.r2.meta(this.current.state?.key ?? r.key);
    return { ok: meta?.fill === r.fill, held: false };
  }

  /** Chunks nobody stores or fetches go to waiting clients, one lease each (Subscribers.handOut). */
  private handOut(now: number): void {
    const plan = this.current.plan;
    if (plan) this.subscribers.handOut((window) => this.lease(plan, window, now));
  }
}

function randomId(): string {
  return hex(crypto.getRandomValues(new Uint8Array(8)));
}
