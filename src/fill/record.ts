/**
 * What of a fill survives an eviction of its FillCoordinator, and how it is kept in the
 * object's storage: one record (FillState) and, beside it, one entry per stored chunk
 * (its SHA-256), so a report adds one small key instead of rewriting a list that grows
 * with the file. Also the fill as the object holds it in memory (CurrentFill), rebuilt
 * from storage on the first call after a restart. Leases, progress streams and the
 * commit's back-off are memory only: the fillers' reports and heartbeats take their
 * leases back (FillPlan), and a commit that was pausing is tried at once.
 */
import { chunkCount } from "../store/layout";
import type { OriginHead } from "../store/meta";
import type { R2Tier } from "../store/r2-tier";
import { FillPlan } from "./plan";

/** What survives an eviction of the object (the stored set is kept per chunk beside it). */
export interface FillState {
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

/**
 * The fill a coordinator runs, as it stands in memory: the record and the plan (both null
 * when there is none), and the leases given up in a row since the last stored chunk.
 */
export interface CurrentFill {
  state: FillState | null;
  plan: FillPlan | null;
  failures: number;
}

const STATE = "state";
const CHUNK_PREFIX = "s:";
const TOUCH_PERSIST_MS = 60_000;

export class FillRecord {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** The fill recorded here and its stored set, or null when there is none. */
  async load(r2: R2Tier): Promise<{ state: FillState; plan: FillPlan } | null> {
    const state = await this.storage.get<FillState>(STATE);
    if (!state) return null;
    // A fill recorded before commits were guarded: it replaces whatever is visible now.
    if (state.base === undefined) state.base = (await r2.pointer(state.key))?.etag ?? null;
    const stored = await this.storage.list<string>({ prefix: CHUNK_PREFIX });
    return { state, plan: new FillPlan(chunkCount(state.head.length, state.chunkSize), [...stored.keys()].map((k) => Number(k.slice(CHUNK_PREFIX.length)))) };
  }

  /**
   * A join: the orphan clock starts again. A crowd joins hundreds of times a second, so it
   * is persisted once a minute, unconfirmed, so the answer (the first byte of a cold file)
   * does not wait for the write: should it fail, the object resets and its fillers'
   * reports are refused (nothing stored yet is lost; the next join starts the fill again).
   */
  async touch(state: FillState, now: number): Promise<void> {
    if (state.touched === now || now - state.touched > TOUCH_PERSIST_MS) {
      state.touched = now;
      await this.storage.put(STATE, state, { allowUnconfirmed: true });
    }
  }

  /** A chunk stored in R2: its SHA-256 (for the manifest) and the record, in one write. */
  chunkStored(state: FillState, index: number, sha256: string): Promise<void> {
    return this.storage.put({ [CHUNK_PREFIX + index]: sha256, [STATE]: state });
  }

  save(state: FillState): Promise<void> {
    return this.storage.put(STATE, state);
  }

  /** The stored chunks' SHA-256s, by chunk index. */
  async chunkDigests(): Promise<string[]> {
    const stored = await this.storage.list<string>({ prefix: CHUNK_PREFIX });
    const chunks: string[] = [];
    for (const [k, sha] of stored) chunks[Number(k.slice(CHUNK_PREFIX.length))] = sha;
    return chunks;
  }
}
