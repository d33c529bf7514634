import { DurableObject } from "cloudflare:workers";
import { requireConfig } from "../../config/load";
import type { OriginHead, StoredMeta } from "../meta";
import { R2Tier } from "../tiers/r2-tier";
import { FillRun } from "./fill-run";

export interface FollowRequest {
  key: string;
  /** Canonical path (+ query when keyed) to request from the origin. */
  target: string;
  /** Version the node's HEAD saw; a stored copy of it ends the wait at once. */
  version: string;
}

export type FollowResult =
  | { kind: "stored"; meta: StoredMeta }
  | { kind: "live"; head: OriginHead & { length: number }; version: string; body: ReadableStream<Uint8Array> }
  | { kind: "failed"; status: 502 | 504; reason: string; uncacheable: boolean };

const KEEPALIVE_MS = 10_000;
const UPLOAD = "upload";

/**
 * One per object version (named key + version): serialises the origin fill, so any
 * number of clients on any node cause one origin GET of the body. Runs the fill itself
 * because a Worker's waitUntil ends ~30 s after its client leaves; an alarm keeps the
 * object alive while a fill runs and aborts the upload of a fill that died with it.
 */
export class FillCoordinator extends DurableObject<Env> {
  private run: FillRun | null = null;

  async follow(req: FollowRequest): Promise<FollowResult> {
    // Check-and-start must not interleave: two clients arriving together share one run.
    const current = await this.ctx.blockConcurrencyWhile(() => this.currentRun(req));
    if (!(current instanceof FillRun)) return { kind: "stored", meta: current };
    const start = await current.started;
    if (!start.ok) {
      return { kind: "failed", status: start.status, reason: start.reason, uncacheable: start.uncacheable === true };
    }
    if (current.meta) return { kind: "stored", meta: current.meta };
    return { kind: "live", head: start.head, version: start.version, body: current.subscribe(start.head) };
  }

  private async currentRun(req: FollowRequest): Promise<FillRun | StoredMeta> {
    // A finished run is dropped (below), so a run here is in progress or has failed.
    if (this.run && this.run.failure() === null) return this.run;
    const stored = await new R2Tier(this.env.STORE).meta(req.key);
    if (stored && stored.version === req.version) return stored;
    await this.abortOrphanUpload();
    const run: FillRun = new FillRun(requireConfig(this.env), this.env.STORE, req.key, req.target, {
      uploadStarted: (key, uploadId) => this.ctx.storage.put(UPLOAD, { key, uploadId }),
      finished: async () => {
        await this.ctx.storage.delete(UPLOAD);
        // Stored: later clients read R2 directly, and a purge cannot leave a stale run.
        if (run.meta && this.run === run) this.run = null;
      },
    });
    this.run = run;
    await this.ctx.storage.setAlarm(Date.now() + KEEPALIVE_MS);
    return run;
  }

  override async alarm(): Promise<void> {
    if (this.run && !this.run.done) {
      await this.ctx.storage.setAlarm(Date.now() + KEEPALIVE_MS);
      return;
    }
    // The instance restarted mid-fill (or the fill ended): nothing may stay half-written.
    if (!this.run) await this.abortOrphanUpload();
  }

  private async abortOrphanUpload(): Promise<void> {
    const pending = await this.ctx.storage.get<{ key: string; uploadId: string }>(UPLOAD);
    if (!pending) return;
    await this.env.STORE.resumeMultipartUpload(pending.key, pending.uploadId).abort().catch(() => {});
    await this.ctx.storage.delete(UPLOAD);
  }
}
