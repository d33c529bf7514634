/**
 * Versions whose bytes are deleted later, not at once. A version replaced by a commit is
 * still being read by downloads in progress, in any colo: they hold its pointer and fetch
 * it chunk after chunk. So is a complete fill that never became visible (the pointer moved
 * on meanwhile) by the followers of that fill. The FillCoordinator that made the decision
 * keeps the list in its own storage and deletes each version from its alarm once the grace
 * period is over. Admin purges stay immediate (store.purge).
 */
import { versionKeys } from "../store/layout";
import { sameFill, type StoredMeta } from "../store/meta";
import type { R2Tier } from "../store/r2-tier";
import { log } from "../platform/log";

interface Retired {
  meta: StoredMeta;
  /** Deleted from this time on (ms since epoch). */
  at: number;
}

const PREFIX = "retire:";

export class Retirements {
  private readonly due = new Map<string, Retired>();

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly r2: R2Tier,
  ) {}

  async load(): Promise<void> {
    for (const [k, v] of await this.storage.list<Retired>({ prefix: PREFIX })) this.due.set(k, v);
  }

  async add(meta: StoredMeta, at: number): Promise<void> {
    const key = `${PREFIX}${meta.version}-${meta.fill ?? ""}`;
    this.due.set(key, { meta, at });
    await this.storage.put(key, { meta, at });
  }

  /** Earliest deletion still to do, or null. */
  next(): number | null {
    let min: number | null = null;
    for (const r of this.due.values()) if (min === null || r.at < min) min = r.at;
    return min;
  }

  /**
   * Deletes every version whose time has come, unless the pointer names it again (it
   * cannot, as fill ids are never reused, but deleting a visible copy would break every
   * colo at once: one R2 head per version is cheap insurance). A failed deletion stays
   * listed for the next alarm.
   */
  async sweep(now: number): Promise<void> {
    for (const [key, r] of [...this.due]) {
      if (r.at > now) continue;
      try {
        const current = await this.r2.meta(r.meta.key);
        if (!current || !sameFill(current, r.meta)) await this.r2.deleteKeys(versionKeys(r.meta));
        this.due.delete(key);
        await this.storage.delete(key);
      } catch (e) {
        log.error("fill.retire-failed", { key: r.meta.key, version: r.meta.version, error: String(e) });
      }
    }
  }

  /** Writes the list back after the object's storage was wiped (a fill forgotten). */
  async restore(): Promise<void> {
    if (this.due.size) await this.storage.put(Object.fromEntries(this.due));
  }
}
