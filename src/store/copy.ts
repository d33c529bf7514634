import type { ByteRange } from "../http/range";
import type { StoredMeta } from "./meta";
import type { Soon } from "../platform/soon";

export type TierName = "cache-api" | "r2";

/** The bytes of one stored version, readable whole or by range. */
export interface BodySource {
  /** At once when the bytes are already open (a pointer's inline body), else once they are. */
  full(): Soon<ReadableStream<Uint8Array> | null>;
  range(r: ByteRange): Promise<ReadableStream<Uint8Array> | null>;
  /** Give back anything the lookup already opened but the response did not use. */
  dispose(): void;
}

export interface StoredCopy {
  tier: TierName;
  meta: StoredMeta;
  body: BodySource;
}
