import { DurableObject } from "cloudflare:workers";

export type Acquire = { ok: true; leaseId: string; active: number } | { ok: false; active: number; retryAfterMs: number };

type Leases = Record<string, number>; // lease id -> expiry (ms since epoch)
const LEASES = "leases";

/**
 * Concurrent downloads of one URL by one client (one object per client + URL).
 * Every slot is a lease with an expiry: a worker that dies mid-download stops sending
 * heartbeats and its slot frees itself, through the alarm or the next acquire.
 */
export class ConcurrencyLimiter extends DurableObject<Env> {
  private leases: Leases = {};

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.leases = (await ctx.storage.get<Leases>(LEASES)) ?? {};
    });
  }

  async acquire(limit: number, ttlMs: number): Promise<Acquire> {
    const now = Date.now();
    this.sweep(now);
    const active = Object.keys(this.leases).length;
    if (active >= limit) {
      const soonest = Math.min(...Object.values(this.leases));
      return { ok: false, active, retryAfterMs: Math.max(0, soonest - now) };
    }
    const leaseId = crypto.randomUUID();
    this.leases[leaseId] = now + ttlMs;
    await this.save();
    return { ok: true, leaseId, active: active + 1 };
  }

  /** Heartbeat: false when the lease had already expired (the slot may be someone else's now). */
  async renew(leaseId: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    this.sweep(now);
    if (!(leaseId in this.leases)) return false;
    this.leases[leaseId] = now + ttlMs;
    await this.save();
    return true;
  }

  async release(leaseId: string): Promise<void> {
    if (!(leaseId in this.leases)) return;
    delete this.leases[leaseId];
    await this.save();
  }

  async active(): Promise<number> {
    this.sweep(Date.now());
    return Object.keys(this.leases).length;
  }

  override async alarm(): Promise<void> {
    this.sweep(Date.now());
    await this.save();
  }

  private sweep(now: number): void {
    for (const [id, expiry] of Object.entries(this.leases)) if (expiry <= now) delete this.leases[id];
  }

  private async save(): Promise<void> {
    const expiries = Object.values(this.leases);
    if (expiries.length === 0) {
      await this.ctx.storage.deleteAll();
      return;
    }
    await this.ctx.storage.put(LEASES, this.leases);
    await this.ctx.storage.setAlarm(Math.min(...expiries));
  }
}
