// A FillCoordinator driven through its stub, as node Workers drive it, with the real R2
// bucket beside it. The test plays the fillers: it writes chunk objects and reports them.
import { env } from "cloudflare:workers";
import type { FillCoordinator } from "../../src/fill/coordinator";
import { readEvents, type ChunkReport, type JoinRequest, type JoinResult, type ProgressEvent } from "../../src/fill/protocol";
import { chunkKey, metaKey } from "../../src/store/layout";
import { metaFromRecord, type StoredMeta } from "../../src/store/meta";

export const fills = (env as unknown as { FILLS: DurableObjectNamespace<FillCoordinator> }).FILLS;
export const bucket = (env as unknown as Env).STORE;
/** FILL_STALL_SECONDS of the workerd test project (vitest.config.ts), as the lease length. */
export const LEASE_MS = 3000;

export const sha = (c: string) => c.repeat(64);

export function active(r: JoinResult): Extract<JoinResult, { kind: "active" }> {
  if (r.kind !== "active") throw new Error(`expected an active fill, got ${r.kind}`);
  return r;
}

/** One version of one key: its coordinator and the calls a node would make. */
export class Version {
  readonly stub: DurableObjectStub<FillCoordinator>;

  constructor(
    readonly key: string,
    readonly version: string,
    readonly length: number,
    readonly chunkSize: number,
    readonly contentType = "application/octet-stream",
  ) {
    this.stub = fills.get(fills.idFromName(`${key}\n${version}`));
  }

  static fresh(version = "v1", length = 4096, chunkSize = 1024): Version {
    return new Version(`/coord/${crypto.randomUUID()}.bin`, version, length, chunkSize);
  }

  /** Another version of the same key. */
  next(version: string): Version {
    return new Version(this.key, version, this.length, this.chunkSize, this.contentType);
  }

  request(window: JoinRequest["window"] = null, chunkSize = this.chunkSize): JoinRequest {
    const head = { etag: `"${this.version}"`, lastModified: null, length: this.length, contentType: this.contentType, cacheControl: null };
    return { key: this.key, target: this.key, version: this.version, head, chunkSize, window };
  }

  async join(window: JoinRequest["window"] = null, chunkSize?: number, extra: Pick<JoinRequest, "pointer"> = {}): Promise<JoinResult> {
    return (await this.stub.join({ ...this.request(window, chunkSize), ...extra })) as JoinResult;
  }

  report(fill: string, lease: string, end: number, index: number, extra: Partial<ChunkReport> = {}) {
    return this.stub.report({ key: this.key, fill, lease, end, index, sha256: sha("a"), ...extra });
  }

  /** Puts chunk `index` of `fill` in R2, as a filler does before reporting it. */
  async putChunk(fill: string, index: number): Promise<string> {
    const name = chunkKey(this.key, this.version, fill, index);
    await bucket.put(name, new Uint8Array(Math.min(this.chunkSize, this.length - index * this.chunkSize)));
    return name;
  }

  /** Stores and reports every chunk of `lease` in order; the answer to the last report. */
  async fillLease(fill: string, lease: { id: string; next: number; end: number }, last: Partial<ChunkReport> = {}) {
    let answer;
    for (let i = lease.next; i < lease.end; i++) {
      await this.putChunk(fill, i);
      answer = await this.report(fill, lease.id, lease.end, i, i === lease.end - 1 ? last : {});
    }
    return answer!;
  }
}

export async function pointer(key: string): Promise<StoredMeta | null> {
  return metaFromRecord((await bucket.head(metaKey(key)))?.customMetadata);
}

/** Every event of a progress stream until the coordinator closes it. */
export async function allEvents(progress: ReadableStream<Uint8Array>): Promise<ProgressEvent[]> {
  const out: ProgressEvent[] = [];
  for await (const e of readEvents(progress.getReader())) out.push(e);
  return out;
}
