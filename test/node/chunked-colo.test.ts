// The colo tier of a chunked copy (issue #12): every chunk of a file is its own Cache API
// entry, so a multi-chunk file is colo-hot. Proven by deleting the R2 chunks: whatever
// is still served must have come from this colo's Cache API.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { metaKey } from "../../src/store/layout";
import { metaFromRecord, type StoredMeta } from "../../src/store/meta";
import { Store } from "../../src/store/store";
import { putFile, referenceBytes, stats, uniquePath } from "../support/origin";
import { eventually, nodeFetch, streamSha256 } from "../support/node";

const bucket = (env as unknown as Env).STORE;
const MiB = 1024 * 1024;

async function storedMeta(path: string): Promise<StoredMeta> {
  return eventually(async () => metaFromRecord((await bucket.head(metaKey(path)))?.customMetadata) ?? undefined);
}

/** Deletes every R2 chunk and manifest object of `path`; returns how many there were. */
async function deleteR2Chunks(path: string): Promise<number> {
  const keys: string[] = [];
  for (const prefix of ["chunk/", "manifest/"]) {
    const listed = await bucket.list({ prefix });
    keys.push(...listed.objects.map((o) => o.key).filter((k) => k.endsWith(path)));
  }
  await bucket.delete(keys);
  return keys.length;
}

/** Requests until the answer comes from the colo's pointer (it is learnt from an R2 hit in the background). */
async function untilColoHit(path: string): Promise<void> {
  await eventually(async () => {
    const r = await nodeFetch(path);
    const hit = (r.headers.get("cache-status") ?? "").includes("detail=cache-api");
    await r.arrayBuffer();
    return hit;
  });
}

describe("colo tier for chunked copies", () => {
  it("a multi-chunk file is served from the Cache API alone once its R2 chunks are gone, and Cache-Status says so", async () => {
    const size = 3 * MiB + 5;
    const seed = 51;
    const path = uniquePath("colo-hot.bin");
    const file = await putFile(path, size, { seed });
    // The filling Worker puts each chunk into this colo's cache beside R2.
    expect(await streamSha256(await nodeFetch(path))).toEqual({ sha256: file.sha256, bytes: size });
    const meta = await storedMeta(path);
    expect(meta.chunkSize).toBe(MiB);

    // The first hit reads the pointer from R2 and tells this colo about it.
    const fromR2 = await nodeFetch(path);
    expect(fromR2.headers.get("cache-status")).toContain("detail=r2");
    await fromR2.arrayBuffer();
    await untilColoHit(path);

    expect(await deleteR2Chunks(path)).toBe(5);
    const res = await nodeFetch(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-status")).toMatch(/^test-node; fwd=stale; fwd-status=304; detail=cache-api$/);
    expect(await streamSha256(res)).toEqual({ sha256: file.sha256, bytes: size });

    // A range across two boundaries, stitched from three cached chunks.
    const start = MiB - 10;
    const end = 2 * MiB + 10;
    const part = await nodeFetch(path, { headers: { range: `bytes=${start}-${end}` } });
    expect(part.status).toBe(206);
    expect(part.headers.get("cache-status")).toContain("detail=cache-api");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(await referenceBytes(size, seed, { start, end }));
    expect((await stats(path)).gets).toBe(1);
  });

  it("a colo that did not fill the file warms each chunk from its first R2 read", async () => {
    const size = 2 * MiB + 300;
    const path = uniquePath("colo-warm.bin");
    const file = await putFile(path, size, { seed: 52 });
    await (await nodeFetch(path)).arrayBuffer();
    const meta = await storedMeta(path);
    // Forget this colo's entries, as if the fill had run in another colo.
    const colo = new Store(bucket, caches.default, { cacheMaxBytes: Number.MAX_SAFE_INTEGER, waitUntil: () => {} }).cache;
    await colo.purge(path, meta);
    const cachedChunks = async () => {
      let n = 0;
      for (let i = 0; i * MiB < size; i++) {
        const len = Math.min(MiB, size - i * MiB);
        const body = await colo.chunk(meta, i, 0, len, len);
        if (body) n++;
        await body?.cancel();
      }
      return n;
    };
    expect(await cachedChunks()).toBe(0);

    const cold = await nodeFetch(path);
    expect(cold.headers.get("cache-status")).toContain("detail=r2");
    expect(await streamSha256(cold)).toEqual({ sha256: file.sha256, bytes: size });
    await untilColoHit(path);

    // The read warmed every chunk here in the background; R2 is no longer needed.
    await eventually(async () => (await cachedChunks()) === 3);
    expect(await deleteR2Chunks(path)).toBe(4);
    const res = await nodeFetch(path);
    expect(res.headers.get("cache-status")).toContain("detail=cache-api");
    expect(await streamSha256(res)).toEqual({ sha256: file.sha256, bytes: size });
  });
});
