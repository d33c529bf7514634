import type { ByteRange } from "../http/range";
import type { StoredMeta } from "./meta";

export type TierName = "cache-api" | "r2";

/** The bytes of one stored version, readable whole or by range. */
export interface BodySource {
  full(): Promise<ReadableStream<Uint8Array> | null>;
  range(r: ByteRange): Promise<ReadableStream<Uint8Array> | null>;
  /** Give back anything the lookup already opened but the response did not use. */
  dispose(): void;
}

export interface StoredCopy {
  tier: TierName;
  meta: StoredMeta;
  body: BodySource;
}
