/**
 * What a node's Worker and the FillCoordinator say to each other. Only small records
 * cross: chunk indexes, SHA-256s, leases. No file byte passes through the coordinator;
 * chunks travel origin -> filling Worker -> R2 -> every reading Worker.
 */
import type { OriginHead, StoredMeta } from "../store/meta";
import type { Lease } from "./plan";

export interface JoinRequest {
  key: string;
  /** Canonical path (+ query when keyed) the origin is asked for. */
  target: string;
  version: string;
  head: OriginHead & { length: number };
  /** The node's CHUNK_SIZE, used only if this call starts the version's fill. */
  chunkSize: number;
  /** Chunks [from, to) the caller's answer needs. */
  from: number;
  to: number;
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
    };

export interface ChunkReport {
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

export type ReportAnswer = { ok: boolean; hashPass?: boolean };

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
