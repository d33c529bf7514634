/**
 * Who fetches which chunks of one version (pure state; the FillCoordinator persists the
 * stored set and keeps leases in memory). A lease is a run of consecutive chunks one
 * Worker fetches with one origin request; it moves forward as chunks are stored and
 * expires when its holder goes quiet, so a fill that dies resumes at its first missing
 * chunk with whoever asks next.
 */
export interface Lease {
  id: string;
  /** Next chunk the holder will store. */
  next: number;
  /** One past the last chunk of the lease. */
  end: number;
  /** Expiry (ms since epoch); renewed by every stored chunk and heartbeat. */
  until: number;
}

export class FillPlan {
  readonly stored: Uint8Array;
  private storedCount = 0;
  private readonly leases = new Map<string, Lease>();
  /** Leases taken back for silence: a late chunk from one must not revive it. */
  private readonly expired = new Set<string>();

  constructor(readonly chunks: number, stored: Iterable<number> = []) {
    this.stored = new Uint8Array(chunks);
    for (const i of stored) this.markStored(i);
  }

  get complete(): boolean {
    return this.storedCount === this.chunks;
  }

  isStored(i: number): boolean {
    return this.stored[i] === 1;
  }

  /** True when `i` was not stored before. */
  markStored(i: number): boolean {
    if (i < 0 || i >= this.chunks || this.stored[i] === 1) return false;
    this.stored[i] = 1;
    this.storedCount++;
    return true;
  }

  private claimed(i: number, now: number): boolean {
    for (const l of this.leases.values()) if (l.until > now && l.next <= i && i < l.end) return true;
    return false;
  }

  /**
   * A lease on the first run of chunks in [from, to) that nobody stores or fetches, or
   * null when every chunk there is stored or being fetched (the caller follows).
   */
  assign(from: number, to: number, now: number, leaseMs: number, id: string): Lease | null {
    const end = Math.min(to, this.chunks);
    let start = from;
    while (start < end && (this.isStored(start) || this.claimed(start, now))) start++;
    if (start >= end) return null;
    let stop = start + 1;
    while (stop < end && !this.isStored(stop) && !this.claimed(stop, now)) stop++;
    const lease: Lease = { id, next: start, end: stop, until: now + leaseMs };
    this.leases.set(id, lease);
    return lease;
  }

  /**
   * A chunk stored by `leaseId`. Accepted from an expired lease too (the bytes are good),
   * but that does not revive the lease: its chunks may have been leased to someone else.
   */
  chunkStored(leaseId: string, i: number, now: number, leaseMs: number, end?: number): boolean {
    const fresh = this.markStored(i);
    if (end !== undefined) this.adopt(leaseId, i + 1, end, now + leaseMs, now);
    const l = this.leases.get(leaseId);
    if (l && l.until <= now) this.drop(leaseId);
    else if (l) {
      l.next = Math.max(l.next, i + 1);
      l.until = now + leaseMs;
      if (l.next >= l.end) this.leases.delete(leaseId);
    }
    return fresh;
  }

  /**
   * A heartbeat from the holder, now fetching chunk `next` of a lease ending at `end`:
   * true while the lease is still its own (then renewed; taken back after a restart of
   * the coordinator, as a stored chunk does). False once it expired: the holder stops.
   */
  renew(leaseId: string, now: number, leaseMs: number, next: number, end: number): boolean {
    this.adopt(leaseId, next, end, now + leaseMs, now);
    const l = this.leases.get(leaseId);
    if (!l) return false;
    if (l.until <= now) {
      this.drop(leaseId);
      return false;
    }
    l.until = now + leaseMs;
    return true;
  }

  /**
   * A lease this plan never handed out (it was lost with the coordinator's memory, e.g. on
   * an eviction) whose holder is still storing chunks: take it back, so its remaining
   * chunks are not leased to a second filler. Not for leases that expired here, nor over
   * chunks someone else holds now.
   */
  private adopt(id: string, next: number, end: number, until: number, now: number): void {
    if (this.leases.has(id) || this.expired.has(id) || next >= Math.min(end, this.chunks)) return;
    for (let i = next; i < Math.min(end, this.chunks); i++) if (this.claimed(i, now)) return;
    this.leases.set(id, { id, next, end: Math.min(end, this.chunks), until });
  }

  holds(leaseId: string): boolean {
    return this.leases.has(leaseId);
  }

  release(leaseId: string): void {
    this.drop(leaseId);
  }

  /** Drops expired leases; true when any expired (its chunks are up for grabs again). */
  expire(now: number): boolean {
    let any = false;
    for (const [id, l] of this.leases) {
      if (l.until <= now) {
        this.drop(id);
        any = true;
      }
    }
    return any;
  }

  /** A lease taken back for good: a late chunk or heartbeat from its holder does not revive it. */
  private drop(leaseId: string): void {
    this.leases.delete(leaseId);
    this.expired.add(leaseId);
  }

  get activeLeases(): number {
    return this.leases.size;
  }

  nextExpiry(): number | null {
    let min: number | null = null;
    for (const l of this.leases.values()) if (min === null || l.until < min) min = l.until;
    return min;
  }
}
