import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dataKey, metaKey } from "../../src/store/layout";
import { versionOf } from "../../src/store/meta";
import { alarmAt } from "../fill/clock";
import { behave, deleteFile, putFile, stats, uniquePath } from "../support/origin";
import { eventually, nodeFetch, streamSha256 } from "../support/node";

const store = (env as unknown as Env).STORE;

async function fillAndDrain(path: string): Promise<Response> {
  const res = await nodeFetch(path);
  await res.arrayBuffer();
  return res;
}

describe("storage tiers", () => {
  it("an R2 hit warms the Cache API; a Cache API hit needs neither R2 nor the origin body", async () => {
    const path = uniquePath("warm.bin");
    const file = await putFile(path, 200_000);
    await fillAndDrain(path);

    const fromR2 = await nodeFetch(path);
    expect(fromR2.headers.get("cache-status")).toContain("detail=r2");
    await fromR2.arrayBuffer();

    const fromCache = await eventually(async () => {
      const r = await nodeFetch(path);
      const status = r.headers.get("cache-status") ?? "";
      if (status.includes("detail=cache-api")) return r;
      await r.arrayBuffer();
      return undefined;
    });
    // Remove the R2 copy entirely: the colo copy alone must answer.
    const meta = await store.head(metaKey(path));
    expect(meta).not.toBeNull();
    await store.delete(metaKey(path));
    const again = await nodeFetch(path);
    expect(again.headers.get("cache-status")).toContain("detail=cache-api");
    expect((await streamSha256(again)).sha256).toBe(file.sha256);
    expect((await streamSha256(fromCache)).sha256).toBe(file.sha256);
    expect((await stats(path)).gets).toBe(1);
  });

  it("keys include the version: a changed file is refilled and the old version's bytes deleted", async () => {
    const path = uniquePath("changes.txt");
    // Three chunks of CHUNK_SIZE (1 MiB in the tests) plus the manifest.
    const v1 = await putFile(path, 2.5 * 1024 * 1024, { seed: 1, mtime: 1_700_000_000 });
    await fillAndDrain(path);
    const keysOf = async (prefix: string) => (await store.list({ prefix })).objects.map((o) => o.key).filter((k) => k.endsWith(path));
    const oldKeys = [...(await keysOf("chunk/")), ...(await keysOf("manifest/"))];
    expect(oldKeys).toHaveLength(4);

    const v2 = await putFile(path, 12_000, { seed: 2, mtime: 1_700_000_100 });
    expect(v2.etag).not.toBe(v1.etag);
    const res = await nodeFetch(path);
    expect(res.headers.get("etag")).toBe(v2.etag);
    expect(res.headers.get("cache-status")).toMatch(/fwd=miss/);
    expect((await streamSha256(res)).sha256).toBe(v2.sha256);

    // The old version's bytes stay for downloads of it in progress, until the new version's
    // coordinator deletes them after the grace period (an hour).
    for (const k of oldKeys) expect(await store.head(k)).not.toBeNull();
    const fills = (env as unknown as Env).FILLS;
    const version = await versionOf({ etag: v2.etag, lastModified: v2.lastModified, length: v2.size, contentType: null, cacheControl: null });
    expect(await alarmAt(fills.get(fills.idFromName(`${path}\n${version}`)), Date.now() + 3600_000 + 1000)).toBe(true);
    for (const k of oldKeys) expect(await store.head(k)).toBeNull();
    const after = await nodeFetch(path);
    expect(after.headers.get("etag")).toBe(v2.etag);
    expect((await streamSha256(after)).sha256).toBe(v2.sha256);
    expect((await stats(path)).gets).toBe(2);
  });

  it("404 and 410 from the origin purge every copy and are passed on", async () => {
    for (const status of [404, 410] as const) {
      const path = uniquePath(`gone-${status}.bin`);
      await putFile(path, 5000);
      await fillAndDrain(path);
      const stored = await store.head(metaKey(path));
      expect(stored).not.toBeNull();

      if (status === 404) await deleteFile(path);
      else await behave(path, { status: 410 });
      const res = await nodeFetch(path);
      expect(res.status).toBe(status);
      expect(res.headers.get("cache-status")).toContain("detail=purged");
      expect(await store.head(metaKey(path))).toBeNull();
      const version = (JSON.parse(stored!.customMetadata!["meta"]!) as { version: string }).version;
      expect(await store.head(dataKey(path, version))).toBeNull();
      // Nothing left to serve, even with the origin failing now.
      await behave(path, { status: 503 });
      expect((await nodeFetch(path)).status).toBe(502);
    }
  });

  it("objects without a validator or without a length stream through uncached", async () => {
    for (const [flag, why] of [["noValidators", "no-validator"], ["noLength", "no-length"]] as const) {
      const path = uniquePath(`${flag}.bin`);
      const file = await putFile(path, 70_000);
      await behave(path, { [flag]: 1 });
      for (let i = 0; i < 2; i++) {
        const res = await nodeFetch(path);
        expect(res.status).toBe(200);
        expect(res.headers.get("cache-status")).toBe(`test-node; fwd=miss; detail=${why}`);
        expect((await streamSha256(res)).sha256).toBe(file.sha256);
      }
      expect((await stats(path)).gets).toBe(2);
      expect(await store.head(metaKey(path))).toBeNull();
    }
  });

  it("an answer whose headers would not fit in R2's 8 KiB of metadata streams through uncached, and a shorter one is stored", async () => {
    const path = uniquePath("long-headers.bin");
    const file = await putFile(path, 70_000);
    // 8,000 bytes of Cache-Control: the meta with key, ETag and the rest is over 8,192.
    await behave(path, { cacheControl: `public, x-note="${"a".repeat(8000)}"` });
    for (let i = 0; i < 2; i++) {
      const res = await nodeFetch(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-status")).toBe("test-node; fwd=miss; detail=headers-too-large");
      expect((await streamSha256(res)).sha256).toBe(file.sha256);
    }
    expect(await store.head(metaKey(path))).toBeNull();
    await behave(path, { cacheControl: `public, x-note="${"a".repeat(7000)}"` });
    expect((await streamSha256(await nodeFetch(path))).sha256).toBe(file.sha256);
    await eventually(async () => (await store.head(metaKey(path))) !== null);
  });
});
