import { DurableObject } from "cloudflare:workers";

export type Acquire = { ok: true; leaseId: string; active: number } | { ok: false; active: number; retryAfterMs: number };

/**
 * Concurrent downloads of one file by one client (one object per client + canonical path, never the query).
 * Every slot is a lease with an expiry: a worker that dies mid-download stops sending
 * heartbeats and its slot frees itself, through the alarm or the next acquire.
 *
 * Leases live in memory only, on purpose: losing them (the object restarting) can only
 * free slots early, never keep one, and it saves a durable write on every download
 * start, heartbeat and end. The alarm is the sweep that needs no request to run.
 */
export class ConcurrencyLimiter extends DurableObject<Env> {
  private readonly leases = new Map<string, number>(); // lease id -> expiry (ms since epoch)
  private alarmAt: number | null = null;

  async acquire(limit: number, ttlMs: number): Promise<Acquire> {
    const now = Date.now();
    this.sweep(now);
    if (this.leases.size >= limit) {
      const soonest = Math.min(...this.leases.values());
      return { ok: false, active: this.leases.size, retryAfterMs: Math.max(0, soonest - now) };
    }
    const leaseId = crypto.randomUUID();
    this.leases.set(leaseId, now + ttlMs);
    await this.armAlarm(now + ttlMs);
    return { ok: true, leaseId, active: this.leases.size };
  }

  /** Heartbeat: false when the lease had already expired (the slot may be someone else's now). */
  async renew(leaseId: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    this.sweep(now);
    if (!this.leases.has(leaseId)) return false;
    this.leases.set(leaseId, now + ttlMs);
    return true;
  }

  async release(leaseId: string): Promise<void> {
    this.leases.delete(leaseId);
  }

  async active(): Promise<number> {
    this.sweep(Date.now());
    return this.leases.size;
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    this.sweep(now);
    if (this.leases.size > 0) await this.armAlarm(Math.min(...this.leases.values()));
  }

  private sweep(now: number): void {
    for (const [id, expiry] of this.leases) if (expiry <= now) this.leases.delete(id);
  }

  /** One pending alarm at most, at or before the earliest expiry it has to catch. */
  private async armAlarm(at: number): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}
