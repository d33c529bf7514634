/**
 * What a node's Worker and the FillCoordinator say to each other. Only small records
 * cross: chunk indexes, SHA-256s, leases. No file byte passes through the coordinator;
 * chunks travel origin -> filling Worker -> R2 -> every reading Worker.
 */
import type { ByteRange } from "../http/range";
import type { OriginHead, StoredMeta } from "../store/meta";
import type { Lease } from "./plan";

/** An R2 pointer's etag as a node read it; null: no pointer. */
export interface PointerSeen {
  etag: string | null;
}

export interface JoinRequest {
  key: string;
  /** Canonical path (+ query when keyed) the origin is asked for. */
  target: string;
  version: string;
  head: OriginHead & { length: number };
  /** The node's CHUNK_SIZE, used only if this call starts the version's fill. */
  chunkSize: number;
  /**
   * Bytes the caller's answer needs (inclusive), null for the whole file. Bytes, not chunk
   * indexes: an existing fill may use another chunk size than this node's (the setting
   * changed, or two nodes differ), and only the coordinator knows the fill's own.
   */
  window: ByteRange | null;
  /**
   * The R2 pointer of `key` the caller read in this request, when it named another version
   * or there was none. A join that starts the fill takes it as the pointer its commit may
   * replace instead of reading R2 again before the first byte: a commit of this version
   * goes through this very coordinator, so it cannot have happened unseen, and a pointer
   * moved on meanwhile only makes the commit refuse (then the version is filled again).
   */
  pointer?: PointerSeen;
  /** The asking request's id and node, for the `fill.started` log line of the fill it starts. */
  requestId?: string;
  worker?: string;
}

export type JoinResult =
  | { kind: "stored"; meta: StoredMeta }
  | {
      kind: "active";
      fill: string;
      chunkSize: number;
      /** One byte per chunk, 1 = stored (readable from R2 now). */
      stored: Uint8Array;
      /** Chunks this caller must fetch from the origin, or null to follow. */
      lease: Lease | null;
      /** Newline-delimited ProgressEvent JSON from now on. */
      progress: ReadableStream<Uint8Array>;
      /** Every chunk is stored but the whole-file SHA-256 is missing: this caller computes it. */
      hashPass: boolean;
    };

export interface ChunkReport {
  /** Lets a coordinator that no longer knows the fill check the R2 pointer before refusing. */
  key: string;
  fill: string;
  lease: string;
  /** One past the lease's last chunk, so a coordinator that restarted can take the lease back. */
  end: number;
  index: number;
  /** Hex SHA-256 of the chunk, also checked by R2 on put. */
  sha256: string;
  /** Hex SHA-256 of the whole file, from a filler that fetched every chunk in order. */
  wholeSha256?: string;
  /** The origin's Repr-Digest / Content-Digest SHA-256 (RFC 9530), when it sent one. */
  claimedSha256?: string;
}

/**
 * `ok` false: the fill is gone (discarded, restarted under another id), the chunk is
 * refused and nobody will ever read it. `held` false: the chunk is kept (its bytes are
 * good) but the lease is no longer the caller's (it expired and may be someone else's,
 * or it is finished): stop fetching. `hashPass`: compute the whole-file SHA-256.
 */
export type ReportAnswer = { ok: boolean; held: boolean; hashPass?: boolean };

/** A heartbeat while the origin is slow: where the holder is, so a restarted coordinator can take the lease back. */
export interface Renewal {
  fill: string;
  lease: string;
  /** The chunk being fetched now. */
  next: number;
  end: number;
}

export interface Abandon {
  fill: string;
  lease: string;
  reason: string;
  /** The origin now has another version: this one can never complete. */
  changed: boolean;
}

export type ProgressEvent =
  | { t: "chunk"; i: number }
  | { t: "done" }
  /** To this subscriber only: fetch these chunks (a lease expired, was given up, or left gaps). */
  | { t: "lease"; lease: Lease }
  | { t: "fail"; reason: string; changed: boolean };

const encoder = new TextEncoder();

export function encodeEvent(e: ProgressEvent): Uint8Array {
  return encoder.encode(`${JSON.stringify(e)}\n`);
}

/** Progress events from the coordinator's stream, one per line. */
export async function* readEvents(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<ProgressEvent> {
  const decoder = new TextDecoder();
  let pending = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      pending += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line) yield JSON.parse(line) as ProgressEvent;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
