/**
 * When a fill's traces go, and the one alarm of its FillCoordinator that makes them go. A
 * fill that can never complete, or that nobody asks for any more, must not keep chunks in
 * R2 for ever, nor a complete one its record (joins read the R2 pointer instead). The
 * object has no other clock: lease expiry, a commit retry and the deletion of replaced
 * versions (retire.ts) wake the same alarm, set for the earliest of them.
 */
import type { CounterName } from "../stats/counters";
import { chunkKey } from "../store/layout";
import type { R2Tier } from "../store/r2-tier";
import { log } from "../platform/log";
import type { CurrentFill } from "./record";
import type { Retirements } from "./retire";
import type { Subscribers } from "./subscribers";

/** An incomplete fill nobody has asked for in this long is deleted, chunks and all. */
export const ORPHAN_MS = 24 * 3600_000;
/**
 * A complete fill's record is dropped after this; later joins read the R2 pointer. Also
 * how long the bytes of a version replaced by ours stay readable for downloads of it.
 */
export const COMPLETE_KEEP_MS = 3600_000;

interface CleanupDeps {
  /** The coordinator's fill, emptied here. */
  current: CurrentFill;
  storage: DurableObjectStorage;
  r2: R2Tier;
  retired: Retirements;
  subscribers: Subscribers;
  /** The commit's memory (commit.ts): a retry is an alarm deadline; it goes with the fill. */
  commit: { readonly commitRetryAt: number; clear(): void };
  /** Counts a metrics event of the coordinator (stats/recorder.ts countEvent). */
  count: (name: CounterName) => void;
}

export class FillCleanup {
  constructor(private readonly deps: CleanupDeps) {}

  /** This fill can never complete (or is not wanted): its chunks go, followers are told. */
  async discard(reason: string, changed: boolean): Promise<void> {
    const { state, plan } = this.deps.current;
    if (state) {
      log.warn("fill.failed", { key: state.key, version: state.version, fill: state.fill, reason, changed });
      const keys: string[] = [];
      for (let i = 0; i < (plan?.chunks ?? 0); i++) if (plan?.isStored(i)) keys.push(chunkKey(state.key, state.version, state.fill, i));
      await this.deps.r2.deleteKeys(keys).catch(() => {});
    }
    this.deps.subscribers.emit({ t: "fail", reason, changed });
    if (state) this.deps.count("offload_fills_failed_total");
    await this.reset();
  }

  /** The fill starts again from nothing: open progress streams end, their clients re-join. */
  async reset(): Promise<void> {
    this.deps.subscribers.closeAll();
    await this.forget();
  }

  /** Drops the fill's record; versions waiting for deletion stay listed. */
  async forget(): Promise<void> {
    const { current, commit, storage, retired } = this.deps;
    current.state = null;
    current.plan = null;
    current.failures = 0;
    commit.clear();
    await storage.deleteAll();
    await retired.restore();
  }

  /**
   * The alarm wakes for the earliest of: lease expiry, orphan or keep deadline, a commit
   * retry, and deletions of replaced versions. A hash pass that goes silent is not the
   * alarm's: it has nobody to ask, the next join takes it over.
   * `unconfirmed`: the caller's answer need not wait for the alarm write (see join).
   */
  async schedule(unconfirmed = false): Promise<void> {
    const { current: { state, plan }, retired, commit, storage } = this.deps;
    const deadlines = [retired.next()];
    if (state?.complete) deadlines.push(state.touched + COMPLETE_KEEP_MS);
    else if (state && plan) {
      deadlines.push(state.touched + ORPHAN_MS, plan.nextExpiry());
      if (plan.complete && state.sha256) deadlines.push(commit.commitRetryAt);
    }
    const due = deadlines.filter((d): d is number => d !== null);
    if (due.length === 0) return;
    const deadline = Math.min(...due);
    const pending = await storage.getAlarm();
    if (pending === null || pending > deadline || pending < Date.now()) await storage.setAlarm(deadline, { allowUnconfirmed: unconfirmed });
  }
}
