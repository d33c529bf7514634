// Copies stored before chunking (issue #12 "Migration"): one R2 object at data/<version><key>
// and a meta/<key> pointer without chunkSize/fill, written here exactly as the previous
// code did (git show d9d1894~1:src/node/tiers/r2-tier.ts, :src/node/meta.ts). They must
// stay servable without touching the origin's body, and be replaced by a chunked copy
// once the origin has a new version.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dataKey, metaKey } from "../../src/store/layout";
import { metaFromRecord, versionOf } from "../../src/store/meta";
import { putFile, referenceBytes, stats, uniquePath, type FileInfo } from "../support/origin";
import { alarmAt } from "../fill/clock";
import { eventually, nodeFetch, sha256Hex, streamSha256 } from "../support/node";

const store = (env as unknown as Env).STORE;
const MiB = 1024 * 1024;

/** The old layout: bytes first, then the pointer (its meta has no chunkSize and no fill). */
async function storeLegacyCopy(path: string, file: FileInfo, bytes: Uint8Array): Promise<string> {
  const head = { etag: file.etag, lastModified: file.lastModified, length: file.size, contentType: "application/octet-stream", cacheControl: null };
  const version = await versionOf(head);
  await store.put(dataKey(path, version), bytes);
  const meta = { key: path, version, ...head, sha256: file.sha256, storedAt: Date.now() - 60_000 };
  await store.put(metaKey(path), "", { customMetadata: { meta: JSON.stringify(meta) } });
  return version;
}

describe("copies stored in the layout before chunking", () => {
  it("are served whole, in ranges, multi-range and as 304 without an origin GET; a new origin version replaces them with a chunked copy", async () => {
    // Several CHUNK_SIZEs long, so a chunked reading of it would have to cross boundaries.
    const size = 2 * MiB + 777;
    const seed = 41;
    const path = uniquePath("legacy.bin");
    const file = await putFile(path, size, { seed, mtime: 1_700_100_000 });
    const bytes = await referenceBytes(size, seed);
    const version = await storeLegacyCopy(path, file, bytes);

    const whole = await nodeFetch(path);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("etag")).toBe(file.etag);
    // Read from R2 (this colo has no pointer yet): its HEAD went out unconditional with that read (serve.test.ts).
    expect(whole.headers.get("cache-status")).toMatch(/fwd=stale; fwd-status=200; detail=r2$/);
    expect(await streamSha256(whole)).toEqual({ sha256: file.sha256, bytes: size });

    const at = MiB - 3;
    const part = await nodeFetch(path, { headers: { range: `bytes=${at}-${at + 9}` } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes ${at}-${at + 9}/${size}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.subarray(at, at + 10));

    const suffix = await nodeFetch(path, { headers: { range: "bytes=-1000" } });
    expect(await streamSha256(suffix)).toEqual({ sha256: await sha256Hex(bytes.subarray(size - 1000)), bytes: 1000 });

    const multi = await nodeFetch(path, { headers: { range: `bytes=0-9,${2 * MiB}-${2 * MiB + 9}` } });
    expect(multi.status).toBe(206);
    expect(multi.headers.get("content-type")).toMatch(/^multipart\/byteranges/);
    const text = new TextDecoder("latin1").decode(await multi.arrayBuffer());
    expect(text).toContain(`bytes 0-9/${size}`);
    expect(text).toContain(`bytes ${2 * MiB}-${2 * MiB + 9}/${size}`);
    expect(text).toContain(new TextDecoder("latin1").decode(bytes.subarray(2 * MiB, 2 * MiB + 10)));

    const notModified = await nodeFetch(path, { headers: { "if-none-match": file.etag } });
    expect(notModified.status).toBe(304);

    // Only conditional HEADs reached the origin: no body was fetched again.
    let s = await stats(path);
    expect(s.gets).toBe(0);
    expect(s.bodyBytes).toBe(0);
    expect(await store.head(dataKey(path, version))).not.toBeNull();

    // The origin gets a new version: it is stored chunked, and the old single object goes later.
    const v2 = await putFile(path, size + 5, { seed: seed + 1, mtime: 1_700_100_100 });
    const fresh = await nodeFetch(path);
    expect(fresh.headers.get("etag")).toBe(v2.etag);
    expect(await streamSha256(fresh)).toEqual({ sha256: v2.sha256, bytes: v2.size });
    const meta = await eventually(async () => metaFromRecord((await store.head(metaKey(path)))?.customMetadata) ?? undefined);
    expect(meta).toMatchObject({ etag: v2.etag, chunkSize: MiB, sha256: v2.sha256 });
    expect(meta.fill).toMatch(/^[0-9a-f]+$/);
    // The old single object stays for downloads of it still in progress, until the new
    // version's coordinator deletes it after the grace period (an hour).
    expect(await store.head(dataKey(path, version))).not.toBeNull();
    const fills = (env as unknown as { FILLS: DurableObjectNamespace }).FILLS;
    const fresher = await versionOf({ etag: v2.etag, lastModified: v2.lastModified, length: v2.size, contentType: null, cacheControl: null });
    await alarmAt(fills.get(fills.idFromName(`${path}\n${fresher}`)), Date.now() + 3600_000 + 1000);
    expect(await store.head(dataKey(path, version))).toBeNull();
    s = await stats(path);
    expect(s.gets).toBe(1);
  });

  // The store finds the data object missing while R2's pointer still names exactly this
  // copy: it takes the pointer down before the node joins a fill, so the coordinator does
  // not answer "stored" with the same broken copy (503 forever, before that was fixed).
  it("a legacy pointer whose data object is gone is refilled transparently", async () => {
    const size = MiB + 99;
    const path = uniquePath("legacy-orphan.bin");
    const file = await putFile(path, size, { seed: 43, mtime: 1_700_100_200 });
    const version = await storeLegacyCopy(path, file, await referenceBytes(size, 43));
    await store.delete(dataKey(path, version));

    const res = await nodeFetch(path, { headers: { range: "bytes=100-" } });
    expect(res.status).toBe(206);
    expect((await streamSha256(res)).bytes).toBe(size - 100);
    const again = await nodeFetch(path);
    expect(await streamSha256(again)).toEqual({ sha256: file.sha256, bytes: size });
    // The refill wrote the chunked layout.
    await eventually(async () => metaFromRecord((await store.head(metaKey(path)))?.customMetadata)?.chunkSize === MiB);
  });
});
