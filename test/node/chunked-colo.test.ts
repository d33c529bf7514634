// The colo tier of a chunked copy (issue #12): every chunk of a file is its own Cache API
// entry, so a multi-chunk file is colo-hot. Proven by deleting the R2 chunks: whatever
// is still served must have come from this colo's Cache API.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CacheTier } from "../../src/store/cache-tier";
import { metaKey } from "../../src/store/layout";
import { metaFromRecord, type StoredMeta } from "../../src/store/meta";
import { R2Tier } from "../../src/store/r2-tier";
import { fetchWithVars } from "../support/app";
import { putFile, referenceBytes, stats, uniquePath } from "../support/origin";
import { eventually, nodeFetch, readBody, streamSha256 } from "../support/node";

const bucket = (env as unknown as Env).STORE;
const MiB = 1024 * 1024;

/** This colo's Cache API tier, as the node under test sees it. */
const colo = new CacheTier(caches.default);

/** The R2 pointer of `path` once it exists and `holds` (by default: any). */
async function storedMeta(path: string, holds: (m: StoredMeta) => boolean = () => true): Promise<StoredMeta> {
  return eventually(async () => {
    const m = metaFromRecord((await bucket.head(metaKey(path)))?.customMetadata);
    return m && holds(m) ? m : undefined;
  });
}

/** The fill id of this colo's pointer of `path` (null: no pointer). */
async function coloFill(path: string): Promise<string | null | undefined> {
  const hit = await colo.pointer(path);
  await hit?.body?.cancel();
  return hit ? hit.meta.fill : null;
}

/** A request from another colo: it reads and fills through R2 only, never this colo's Cache API. */
function fromOtherColo(path: string, vars: Record<string, string> = {}): Promise<Response> {
  return fetchWithVars({ CACHE_API_MAX_BYTES: "0", ...vars }, path, { ip: "198.51.100.70" });
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
    expect((await readBody(r)).complete).toBe(true);
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
    expect(await streamSha256(fromR2)).toEqual({ sha256: file.sha256, bytes: size });
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
    expect(await streamSha256(await nodeFetch(path))).toEqual({ sha256: file.sha256, bytes: size });
    const meta = await storedMeta(path);
    // Forget this colo's entries, as if the fill had run in another colo.
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

  // Issue #12 review: a colo keeps its pointer until a read misses. Another colo's purge
  // and refill of the same version names new chunks (new fill id) and deletes the old.
  it("a colo pointer of an older fill of the same version: reads move to R2's current fill mid-body, and the pointer is re-learnt", async () => {
    const size = 3 * MiB + 5;
    const seed = 53;
    const path = uniquePath("colo-refilled.bin");
    const file = await putFile(path, size, { seed });
    expect(await streamSha256(await nodeFetch(path))).toEqual({ sha256: file.sha256, bytes: size });
    const f1 = await storedMeta(path);
    await untilColoHit(path);

    // Another colo purges the copy (R2 and its own Cache API) and refills it, under a new
    // fill id and, after a CHUNK_SIZE change, in chunks of another size.
    await new R2Tier(bucket).purge(path);
    expect(await streamSha256(await fromOtherColo(path, { CHUNK_SIZE: String(MiB / 4 + 4096) }))).toEqual({ sha256: file.sha256, bytes: size });
    const f2 = await storedMeta(path, (m) => m.fill !== f1.fill);
    expect(f2).toMatchObject({ version: f1.version, chunkSize: MiB / 4 + 4096 });

    // Here the old pointer stays, with only chunk 0 of the old fill still cached: the
    // answer starts from this colo and needs R2 from chunk 1 on.
    expect(await coloFill(path)).toBe(f1.fill);
    await colo.purge(path, f1);
    await colo.putPointer(f1, null);
    await colo.putChunk(f1, 0, await referenceBytes(size, seed, { start: 0, end: MiB - 1 }), MiB);
    const gets = (await stats(path)).gets;

    const res = await nodeFetch(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-status")).toContain("detail=cache-api");
    expect(await readBody(res)).toEqual({ complete: true, bytes: size, sha256: file.sha256 });
    // Read from the new fill in R2: the origin sent no body for it.
    expect((await stats(path)).gets).toBe(gets);

    // The stale pointer is dropped, and the next lookup learns the current one from R2.
    await eventually(async () => (await coloFill(path)) !== f1.fill);
    await untilColoHit(path);
    expect(await coloFill(path)).toBe(f2.fill);
  });

  it("a colo pointer of a copy purged elsewhere and not refilled: dropped at its first miss, the file refilled and the new pointer learnt", async () => {
    const size = 2 * MiB + 17;
    const path = uniquePath("colo-purged.bin");
    const file = await putFile(path, size, { seed: 54 });
    expect(await streamSha256(await nodeFetch(path))).toEqual({ sha256: file.sha256, bytes: size });
    const f1 = await storedMeta(path);
    await untilColoHit(path);

    await new R2Tier(bucket).purge(path);
    // Evicted chunks: the very first read misses here and in R2.
    await colo.purge(path, f1);
    await colo.putPointer(f1, null);

    const res = await nodeFetch(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-status")).toMatch(/fwd=miss; fwd-status=200; stored; detail=fill/);
    expect(await readBody(res)).toEqual({ complete: true, bytes: size, sha256: file.sha256 });
    const f3 = await storedMeta(path, (m) => m.fill !== f1.fill);

    await eventually(async () => (await coloFill(path)) !== f1.fill);
    await untilColoHit(path);
    expect(await coloFill(path)).toBe(f3.fill);
    expect((await stats(path)).gets).toBe(2);
  });
});
